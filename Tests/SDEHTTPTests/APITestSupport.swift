import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SDEAudit
import SDEHTTP
import SDEServiceFakes

/// The broker's HTTP API over fakes, served by HummingbirdTesting's router framework (no socket, no database).
enum API {
    /// A logger that writes nothing.
    static let logger = Logger(label: "sde.http.test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `test` with a client of the API over `fake` (a fresh ``FakeBroker`` when `nil`).
    static func test(_ fake: FakeBroker? = nil, _ test: @Sendable (any TestClientProtocol, FakeBroker) async throws -> Void) async throws {
        let fake = try fake ?? FakeBroker()
        let app = Application(router: BrokerAPI(broker: fake.broker, logger: logger).router())
        try await app.test(.router) { client in try await test(client, fake) }
    }
}

extension TestClientProtocol {
    /// Sends `method uri` with `token` as a bearer token (if any), `headers` and `body`.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, headers: HTTPFields = [:], body: String? = nil
    ) async throws -> TestResponse {
        var fields = headers
        if let token { fields[.authorization] = "Bearer " + token }
        return try await execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) })
    }

    /// Runs vetted query `query` of `project` with `parameters`.
    func run(_ project: String, _ query: String, _ parameters: [String: String], token: String?, format: String? = nil) async throws -> TestResponse {
        let body = try JSONSerialization.data(withJSONObject: ["parameters": parameters])
        let uri = "/v1/projects/\(project)/queries/\(query)/runs" + (format.map { "?format=" + $0 } ?? "")
        return try await send(.post, uri, token: token, body: String(decoding: body, as: UTF8.self))
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }
    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:] }
    /// The error code of an error response.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    /// The `SDE-Audit-Sequence` header.
    var auditSequence: Int64? { headers[HTTPField.Name("SDE-Audit-Sequence")!].flatMap { Int64($0) } }
    /// The `SDE-Audit-Hash` header.
    var auditHash: String? { headers[HTTPField.Name("SDE-Audit-Hash")!] }
}

extension InMemoryAuditTrail {
    /// The event with sequence number `sequence`, if recorded.
    func event(_ sequence: Int64?) -> AuditEvent? {
        events.first { $0.sequence == sequence }
    }
}
