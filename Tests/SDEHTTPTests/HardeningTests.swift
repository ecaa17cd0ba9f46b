import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SDEAudit
import SDEHTTP
import SDEService
import SDEServiceFakes
import Testing

/// Issue 13's smaller points over HTTP: a caller's text is never echoed raw in an error.
@Suite struct CallerTextEchoTests {
    static let hostile = ["E06000001'--'", "=WEBSERVICE(1)", "@SUM(1)", "-2+3"]

    static func message(_ reply: TestResponse) -> String { (reply.json["error"] as? [String: Any])?["message"] as? String ?? "" }

    @Test(arguments: hostile)
    func pathIdsAreRepeatedOnlyWhenPlain(_ text: String) async throws {
        try await API.test { client, fake in
            let researcher = try await fake.token(for: "res")
            let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
            for (uri, what) in [
                ("/v1/projects/\(encoded)/queries/q1/runs", "project"), ("/v1/projects/p1/queries/\(encoded)/runs", "vetted query"),
                ("/v1/projects/\(encoded)/queries", "project"),
            ] {
                let reply = try await client.send(
                    uri.hasSuffix("runs") ? .post : .get, uri, token: researcher, body: uri.hasSuffix("runs") ? "{}" : nil)
                #expect(reply.status == .notFound, "\(uri)")
                #expect(!Self.message(reply).contains(text) && !Self.message(reply).contains(encoded), "\(Self.message(reply))")
                #expect(Self.message(reply).contains("\(what) named in the request"), "\(Self.message(reply))")
            }
            let release = try await client.send(.get, "/v1/releases/\(encoded)", token: try await fake.token(for: "reg"))
            #expect(release.status == .notFound && !Self.message(release).contains(text), "\(Self.message(release))")
        }
    }

    @Test(arguments: hostile)
    func bodyNamesAreRepeatedOnlyWhenPlain(_ text: String) async throws {
        try await API.test { client, fake in
            let token = try await fake.token(for: "res")
            let name = String(decoding: try JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]), as: UTF8.self).dropFirst()
                .dropLast()
            for body in [#"{"parameters": {}, \#(name): 1}"#, #"{"parameters": {\#(name): 1}}"#, #"{"parameters": {\#(name): "1"}}"#] {
                let reply = try await client.send(.post, "/v1/projects/p1/queries/q1/runs", token: token, body: body)
                #expect([.badRequest, .unprocessableContent].contains(reply.status), "\(body)")
                #expect(!Self.message(reply).contains(text), "\(Self.message(reply))")
                #expect(!Self.message(reply).contains(text.filter { $0 != "'" }), "\(Self.message(reply))")
            }
        }
    }
}

/// A per-client limit on failed authentications over HTTP (issue 13: anonymous requests were unlimited and each cost
/// an fsynced audit event): beyond it, 429 `too_many_requests` with `Retry-After`, one audit event per burst, counted in
/// `/metrics`; a valid token is still served.
@Suite struct AuthenticationLimitHTTPTests {
    @Test func failedAuthenticationsBeyondTheLimitAre429AuditedOncePerBurstAndCounted() async throws {
        let fake = try FakeBroker(authenticationLimits: .init(failures: 3, window: .seconds(60)))
        try await API.test(fake) { client, fake in
            for _ in 0..<3 {
                let reply = try await client.send(.get, "/v1/me", token: "not-a-token")
                #expect(reply.status == .unauthorized && reply.auditSequence != nil)
            }
            let first = try await client.send(.get, "/v1/me")
            #expect(first.status == .tooManyRequests && first.errorCode == "too_many_requests")
            #expect(first.headers[.retryAfter] == "60")
            let event = try #require(fake.trail.event(first.auditSequence), "the burst is audited once")
            #expect(event.action == .authFailed && event.reason == "too_many_requests" && event.parameters["client"] == "unknown")
            for _ in 0..<10 {
                let again = try await client.send(.get, "/v1/projects/p1/queries", token: "sde_0123456789abcdef_" + String(repeating: "a", count: 64))
                #expect(again.status == .tooManyRequests && again.auditSequence == nil)
            }
            #expect(fake.trail.events.count == 4, "three failures and one burst")
            let me = try await client.send(.get, "/v1/me", token: try await fake.token(for: "res"))
            #expect(me.status == .ok, "a valid token is served whatever its address did")
            let metrics = try await client.send(.get, "/metrics")
            #expect(metrics.text.contains(#"sde_authentication_limited_total{audited="true"} 1"#), "\(metrics.text)")
            #expect(metrics.text.contains(#"sde_authentication_limited_total{audited="false"} 10"#))
            #expect(metrics.text.contains(#"sde_http_requests_total{route="/v1/me",method="GET",status="429"} 1"#))
        }
    }

    @Test func clientAddressesAreKeyedByIPv4AndIPv6Network() throws {
        #expect(ClientAddress.key(nil) == "unknown")
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "203.0.113.7", port: 1234)) == "203.0.113.7")
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:1:2:aaaa:bbbb:cccc:dddd", port: 1)) == "2001:db8:1:2::/64")
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:1:2::1", port: 1)) == "2001:db8:1:2::/64")
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "::ffff:192.0.2.1", port: 1)) == "192.0.2.1")
    }
}
