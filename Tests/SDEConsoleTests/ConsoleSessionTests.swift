import Foundation
import HTTPTypes
import HummingbirdTesting
import SDEAudit
import SDECommon
import SDEConsole
import SDEConsoleTestSupport
import SDEService
import SDEServiceFakes
import Synchronization
import Testing

/// Sign-in, sessions and anti-forgery tokens: what a session cookie looks like, when a session ends, and that every
/// refusal is audited.
@Suite struct ConsoleSessionTests {
    static let window = ["from": "2024Q1", "to": "2024Q2"]

    @Test func signingInExchangesTheTokenForAFreshStrictHttpOnlySessionCookie() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            let form = try await visitor.get("/console/sign-in")
            #expect(form.status == .ok && form.text.contains(#"<label for="token">"#))
            let before = try #require(visitor.cookie)
            #expect(form.headers[.setCookie]?.hasSuffix("; Path=/; HttpOnly; SameSite=Strict") == true, "no Secure without TLS")
            let signedIn = try await visitor.post("/console/sign-in", ["token": try await fake.token(for: "res")])
            #expect(signedIn.status == .seeOther && signedIn.location == "/console")
            #expect(visitor.cookie != nil && visitor.cookie != before, "a new session id at sign-in")
            let home = try await visitor.get("/console")
            #expect(home.status == .ok && home.text.contains("Signed in as"))
            #expect(fake.trail.events.filter { $0.action == .identityRead && $0.actor == "res" }.count == 2, "sign-in and the page view")
        }
    }

    @Test func theCookieIsSecureWhenTheConsoleIsReachedOverTLS() async throws {
        var settings = ConsoleSettings()
        settings.secureCookies = true
        try await Console.test(settings: settings) { client, _ in
            var visitor = Visitor(client)
            let form = try await visitor.get("/console/sign-in")
            #expect(form.headers[.setCookie]?.hasSuffix("; HttpOnly; SameSite=Strict; Secure") == true)
        }
    }

    @Test func aTokenThatDoesNotAuthenticateGetsTheFormAgainAndIsAudited() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            let reply = try await visitor.signIn("sde_0123456789abcdef_" + String(repeating: "a", count: 64))
            #expect(reply.status == .unauthorized && reply.text.contains("That token was not accepted"))
            #expect(fake.trail.events.last?.action == .authFailed && fake.trail.events.last?.reason == "token_unknown")
            #expect(try await visitor.get("/console").location == "/console/sign-in", "no session")
        }
    }

    /// How a form can come back without its anti-forgery token.
    enum Forgery: String, CaseIterable, Sendable {
        case missing, wrong
    }

    @Test(arguments: Forgery.allCases)
    func aFormWithoutItsAntiForgeryTokenIsRefused403AndAudited(_ forgery: Forgery) async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "res"))
            var fields = Self.window
            if forgery == .wrong { fields["csrf"] = String(repeating: "0", count: 64) }
            let reply = try await visitor.post("/console/projects/p1/queries/q1/runs", fields, csrf: false)
            #expect(reply.status == .forbidden && reply.text.contains("This form has expired"))
            let event = try #require(fake.trail.events.last)
            #expect(event.action == .queryDenied && event.actor == "res" && event.reason == "csrf_invalid" && event.project == "p1")
            #expect(fake.store.statementsRun == 0, "nothing ran")
        }
    }

    @Test func aSignInFormWithoutItsAntiForgeryTokenIsRefused403AndAudited() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            _ = try await visitor.get("/console/sign-in")
            let reply = try await visitor.post("/console/sign-in", ["token": try await fake.token(for: "res")], csrf: false)
            #expect(reply.status == .forbidden)
            #expect(fake.trail.events.last?.action == .authFailed && fake.trail.events.last?.reason == "session_csrf_invalid")
        }
    }

    /// A clock the tests move.
    final class Clock: Sendable {
        let time = Mutex(Date(timeIntervalSince1970: 1_781_514_000))
        func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    }

    /// The two limits on a session's life.
    enum Limit: String, CaseIterable, Sendable {
        case idle, absolute
    }

    @Test(arguments: Limit.allCases)
    func aSessionUnusedForHalfAnHourOrOlderThanEightHoursSendsTheUserToSignInAudited(_ limit: Limit) async throws {
        let clock = Clock()
        var settings = ConsoleSettings()
        settings.now = { clock.time.withLock { $0 } }
        try await Console.test(settings: settings) { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "res"))
            switch limit {
            case .idle:
                clock.advance(31 * 60)
            case .absolute:
                // Used every 25 minutes, it lasts 8 hours.
                for _ in 0..<19 {
                    clock.advance(25 * 60)
                    #expect(try await visitor.get("/console").status == .ok)
                }
                clock.advance(25 * 60)
            }
            let reply = try await visitor.get("/console")
            #expect(reply.status == .seeOther && reply.location == "/console/sign-in?expired=1")
            #expect(fake.trail.events.last?.action == .authFailed && fake.trail.events.last?.reason == "session_expired")
            let form = try await visitor.get("/console/sign-in?expired=1")
            #expect(form.text.contains("Your session has ended"))
        }
    }

    @Test func aTokenRevokedSinceSignInEndsTheSession() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            let issued = try await fake.tokens.issue(user: "res", expires: fake.today.adding(days: 3))
            try await visitor.signIn(issued.token)
            #expect(try await visitor.get("/console").status == .ok)
            _ = try await fake.tokens.revoke(id: issued.id)
            let reply = try await visitor.get("/console/projects/p1")
            #expect(reply.status == .seeOther && reply.location == "/console/sign-in?expired=1")
            #expect(fake.trail.events.last?.action == .authFailed && fake.trail.events.last?.reason == "token_revoked")
            #expect(try await visitor.get("/console").location == "/console/sign-in", "the session is gone")
        }
    }

    @Test func signingOutEndsTheSessionAndIsAudited() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "res"))
            _ = try await visitor.get("/console")
            let reply = try await visitor.post("/console/sign-out")
            #expect(reply.status == .seeOther && reply.location == "/console/sign-in")
            #expect(reply.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(fake.trail.events.last?.action == .sessionEnd && fake.trail.events.last?.actor == "res")
            #expect(try await visitor.get("/console").location == "/console/sign-in")
        }
    }

    @Test func aRegulatorOpeningAResearcherPageGets403Audited() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "reg"))
            let reply = try await visitor.get("/console/projects/p1")
            #expect(reply.status == .forbidden && reply.text.contains("<h1>Forbidden</h1>"))
            let event = try #require(fake.trail.events.last)
            #expect(event.action == .projectRead && event.actor == "reg" && event.outcome == .denied && event.reason == "wrong_role")
            let run = try await visitor.post("/console/projects/p1/queries/q1/runs", Self.window)
            #expect(run.status == .forbidden && fake.trail.events.last?.action == .queryDenied)
        }
    }

    @Test func aVisitorWithoutASessionIsSentToSignInUnaudited() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            for path in ["/console", "/console/audit", "/console/releases/r1", "/"] {
                let reply = try await visitor.get(path)
                #expect(reply.status == .seeOther, "\(path)")
            }
            #expect(fake.trail.events.isEmpty)
        }
    }
}
