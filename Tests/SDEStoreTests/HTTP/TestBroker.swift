import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import SDEAudit
import SDECommon
import SDEHTTP
import SDEIngest
import SDEServer
import SDEService
import SDEStore
import Testing

/// A test database served by the broker's HTTP application exactly as `serve` builds it (``buildApplication``): a fresh
/// migrated database, with a small synthetic extract ingested unless told otherwise, the example policy set, a state
/// directory of its own (the audit signing key) and its own audit mirror, and a fixed date.
///
/// ```swift
/// try await TestBroker.with { broker, app in
///     let token = try await broker.token(for: "r-priya-shah")
///     try await app.test(.router) { client in
///         #expect(try await client.request(.get, "/v1/me", token: token).status == 200)
///     }
/// }
/// ```
struct TestBroker: Sendable {
    static let today = QueryRunnerTests.today

    /// What the application was built from.
    let configuration: BrokerConfiguration
    /// A session on the broker's database, for arranging data and reading what the broker wrote.
    let db: DatabaseSession
    /// The audit mirror and the broker's signing key, for verifying the trail.
    let audit: AuditTrailTests.Fixture

    /// Builds the application over a fresh test database and runs `body` with it; `body` runs the application (with
    /// `app.test`), whose shutdown closes the audit trail. `persons` people of synthetic extracts are ingested first
    /// (none when `nil`); `configure` adjusts the configuration (the database, directories and date are set).
    static func with(
        persons: Int? = 2000, metrics: BrokerMetrics = BrokerMetrics(), configure: (inout BrokerConfiguration) -> Void = { _ in },
        _ body: (TestBroker, any ApplicationProtocol) async throws -> Void
    ) async throws {
        let scratch = try persons.map { try IngestTests.Scratch(persons: $0, seed: 33) }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("sde-state-\(UUID().uuidString)").path
        let audit = AuditTrailTests.Fixture(key: try AuditKeyFiles(directory: state).loadOrCreate())
        defer {
            scratch?.remove()
            audit.remove()
            try? FileManager.default.removeItem(atPath: state)
        }
        try await TestPostgres.withDatabase { config, db in
            if let scratch { _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db) }
            var configuration = BrokerConfiguration(database: config)
            configuration.policyDirectory = QueryExecutionTests.root + "/Policies"
            configuration.sqlDirectory = TestPostgres.sqlDirectory
            configuration.stateDirectory = state
            configuration.auditDirectory = audit.mirrorDirectory
            configuration.port = 0
            configuration.today = { today }
            configure(&configuration)
            let app = try await buildApplication(configuration, metrics: metrics, logger: TestPostgres.logger)
            try await body(TestBroker(configuration: configuration, db: db, audit: audit), app)
        }
    }

    /// Issues a token for `user` (valid until `expires`), as `sde-broker token issue` stores it.
    func token(for user: String, expires: CivilDate = TestBroker.today.adding(days: 30)) async throws -> String {
        try await TokenStore.issue(user: user, expires: expires, on: db).token
    }

    /// The audit event with sequence number `sequence`, from the database store.
    func event(_ sequence: Int64?) async throws -> AuditEvent? {
        guard let sequence else { return nil }
        let rows = try await db.query("SELECT line FROM broker.audit_event WHERE sequence = \(sequence)", "read an audit event")
        var found: AuditEvent?
        for try await line in rows.decode(String.self) { found = try AuditJSONL.decode(line) }
        return found
    }

    /// The sequence number of the last audit event committed (0 before the first).
    func lastAuditSequence() async throws -> Int64 {
        var last: Int64 = 0
        for try await value in try await db.query("SELECT coalesce(max(sequence), 0)::bigint FROM broker.audit_event", "read the audit head").decode(
            Int64.self)
        {
            last = value
        }
        return last
    }
}

/// A response as the tests read it: status, headers (lower-case names) and body.
struct Reply: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data

    init(_ response: TestResponse) {
        status = response.status.code
        var fields: [String: String] = [:]
        for field in response.headers { fields[field.name.canonicalName] = field.value }
        headers = fields
        body = Data(response.body.readableBytesView)
    }

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    /// The error code of an error response.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    /// The audit event the response names.
    var auditSequence: Int64? { headers["sde-audit-sequence"].flatMap { Int64($0) } }
}

extension TestClientProtocol {
    /// Sends a request, with `token` as a bearer token; `path` may carry a query string.
    func request(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if body != nil { fields[.contentType] = "application/json" }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return Reply(try await execute(uri: path, method: method, headers: fields, body: body.map { ByteBuffer(bytes: $0) }))
    }

    /// `POST /v1/projects/P/queries/Q/runs` with `{"parameters": parameters}`.
    func run(_ project: String, _ query: String, _ parameters: [String: String], token: String?, accept: String? = nil) async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: ["parameters": parameters])
        return try await request(
            .post, "/v1/projects/\(project)/queries/\(query)/runs", token: token, body: body, headers: accept.map { ["Accept": $0] } ?? [:])
    }
}
