import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SDEConsole
import SDEHTTP
import SDEServiceFakes

/// The web console (beside the API, as `serve` mounts it) over fakes, served by HummingbirdTesting's router framework.
enum Console {
    static let logger = Logger(label: "sde.console.test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `test` with a client of the console over `fake` (a fresh ``FakeBroker`` when `nil`) with `settings`.
    static func test(
        _ fake: FakeBroker? = nil, settings: ConsoleSettings = ConsoleSettings(),
        _ test: @Sendable (any TestClientProtocol, FakeBroker) async throws -> Void
    ) async throws {
        let fake = try fake ?? FakeBroker()
        let router = BrokerAPI(broker: fake.broker, logger: logger).router()
        try await WebConsole(broker: fake.broker, settings: settings, logger: logger).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in try await test(client, fake) }
    }
}

/// A browser as the tests play it: one cookie jar (the session cookie), and the anti-forgery token of the last page.
struct Visitor {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// `GET path`, keeping the session cookie and the page's anti-forgery token.
    mutating func get(_ path: String) async throws -> TestResponse {
        try await send(.get, path, body: nil)
    }

    /// `POST path` with `fields` form-encoded, plus the page's anti-forgery token unless `csrf` is `false`.
    mutating func post(_ path: String, _ fields: [String: String] = [:], csrf: Bool = true) async throws -> TestResponse {
        var fields = fields
        if csrf, let token = self.csrf, fields["csrf"] == nil { fields["csrf"] = token }
        let body = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
        return try await send(.post, path, body: body.joined(separator: "&"))
    }

    /// Signs in with `token` through the sign-in form; returns the response to the form.
    @discardableResult
    mutating func signIn(_ token: String) async throws -> TestResponse {
        _ = try await get("/console/sign-in")
        return try await post("/console/sign-in", ["token": token])
    }

    private mutating func send(_ method: HTTPRequest.Method, _ path: String, body: String?) async throws -> TestResponse {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = cookie }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        if let set = response.headers[.setCookie], let pair = set.split(separator: ";").first {
            cookie = pair.hasSuffix("=") ? nil : String(pair)
        }
        if let match = response.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/) { csrf = String(match.1) }
        return response
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }
    /// The `Location` header.
    var location: String? { headers[.location] }
}
