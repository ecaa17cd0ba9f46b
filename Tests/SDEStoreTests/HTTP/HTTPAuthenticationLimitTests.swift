import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SDEAudit
import SDEServer
import Testing

/// The limit on failed authentications as `serve` builds it, over a real socket (the client address is the peer's):
/// anonymous requests were unlimited and each cost an fsynced audit event (issue 13).
@Suite struct HTTPAuthenticationLimitTests {
    @Test func aClientFailingAuthenticationMoreThanTwentyTimesAMinuteGets429AuditedOncePerBurst() async throws {
        try await TestBroker.with(persons: nil) { broker, app in
            try await app.test(.live) { client in
                let start = try await broker.lastAuditSequence()
                for _ in 0..<20 {
                    #expect(try await client.request(.get, "/v1/me", token: "not-a-token").status == 401)
                }
                let limited = try await client.request(.get, "/v1/me", token: "not-a-token")
                #expect(limited.status == 429 && limited.errorCode == "too_many_requests")
                #expect(limited.headers["retry-after"] == "60")
                let burst = try #require(try await broker.event(limited.auditSequence))
                #expect(burst.action == .authFailed && burst.reason == "too_many_requests" && burst.parameters["client"] == "127.0.0.1")
                for _ in 0..<5 {
                    let again = try await client.request(.get, "/v1/releases")
                    #expect(again.status == 429 && again.auditSequence == nil)
                }
                // Counted by action: another test's SIGHUP makes every running broker in this process audit a reload.
                var failures: [String] = []
                for sequence in (start + 1)...(try await broker.lastAuditSequence()) {
                    if let event = try await broker.event(sequence), event.action == .authFailed { failures.append(event.reason ?? "") }
                }
                #expect(failures == Array(repeating: "token_malformed", count: 20) + ["too_many_requests"], "twenty failures and one burst")
                let me = try await client.request(.get, "/v1/me", token: try await broker.token(for: "r-priya-shah"))
                #expect(me.status == 200, "a valid token from the same address is served")
                let metrics = try await client.request(.get, "/metrics")
                #expect(metrics.text.contains(#"sde_authentication_limited_total{audited="false"} 5"#))
            }
        }
    }
}
