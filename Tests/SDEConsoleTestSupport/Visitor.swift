public import Foundation
public import HTTPTypes
public import HummingbirdTesting
import NIOCore

/// A browser as the tests play it: one cookie jar (the session cookie), and the anti-forgery token of the last page.
public struct Visitor {
    let client: any TestClientProtocol
    /// The session cookie (`name=value`), once set.
    public private(set) var cookie: String?
    /// The anti-forgery token of the last page that had one.
    public private(set) var csrf: String?

    /// A visitor with no cookie yet.
    public init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// `GET path`, keeping the session cookie and the page's anti-forgery token.
    public mutating func get(_ path: String) async throws -> TestResponse {
        try await send(.get, path, body: nil)
    }

    /// `POST path` with `fields` form-encoded, plus the page's anti-forgery token unless `csrf` is `false`.
    public mutating func post(_ path: String, _ fields: [String: String] = [:], csrf: Bool = true) async throws -> TestResponse {
        var fields = fields
        if csrf, let token = self.csrf, fields["csrf"] == nil { fields["csrf"] = token }
        let body = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
        return try await send(.post, path, body: body.joined(separator: "&"))
    }

    /// Signs in with `token` through the sign-in form; returns the response to the form.
    @discardableResult
    public mutating func signIn(_ token: String) async throws -> TestResponse {
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
    public var text: String { String(buffer: body) }
    /// The `Location` header.
    public var location: String? { headers[.location] }
}
