import SDEAudit
import SDEService
import SDEServiceFakes
import Synchronization
import Testing

/// A clock a test moves by hand.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

/// The per-client limit on failed authentications (issue 13: anonymous requests were unlimited and each cost an
/// fsynced audit event, about 1.5 GB of audit an hour from one client).
@Suite struct AuthenticationLimiterTests {
    @Test func aClientOverItsLimitIsLimitedForTheRestOfTheWindowAndOnlyTheFirstRefusalStartsABurst() {
        let clock = ManualClock()
        let limiter = AuthenticationLimiter(limits: .init(failures: 3, window: .seconds(60)), now: { clock.now })
        for _ in 0..<3 { #expect(limiter.recordFailure(from: "203.0.113.7") == .counted) }
        clock.advance(by: .seconds(10))
        #expect(limiter.recordFailure(from: "203.0.113.7") == .limited(firstInBurst: true, retryAfter: .seconds(50)))
        #expect(limiter.recordFailure(from: "203.0.113.7") == .limited(firstInBurst: false, retryAfter: .seconds(50)))
        #expect(limiter.recordFailure(from: "198.51.100.1") == .counted, "other clients are not affected")
        clock.advance(by: .seconds(50))
        #expect(limiter.recordFailure(from: "203.0.113.7") == .counted, "a new window starts afresh")
    }

    @Test func trackedClientsAreBoundedAndTheRestShareOneEntry() {
        let clock = ManualClock()
        let limiter = AuthenticationLimiter(limits: .init(failures: 2, window: .seconds(60), clients: 3), now: { clock.now })
        for client in ["a", "b", "c"] { #expect(limiter.recordFailure(from: client) == .counted) }
        // A flood from ever new addresses is limited as one client once the table is full.
        #expect(limiter.recordFailure(from: "d") == .counted)
        #expect(limiter.recordFailure(from: "e") == .counted)
        #expect(limiter.recordFailure(from: "f") == .limited(firstInBurst: true, retryAfter: .seconds(60)))
        #expect(limiter.trackedClients == 4, "three addresses and the overflow entry")
        // Expired windows make room again.
        clock.advance(by: .seconds(61))
        #expect(limiter.recordFailure(from: "g") == .counted)
        #expect(limiter.trackedClients == 1)
    }
}

/// ``TokenService`` with the limit: failures within it are refused and audited one by one, those beyond it are refused
/// as `too_many_requests` with one audit event per burst, and a valid token is served whatever its address did.
@Suite struct TokenServiceLimitTests {
    @Test func failuresBeyondTheLimitAreAuditedOncePerBurstAndAValidTokenStillAuthenticates() async throws {
        let fake = try FakeBroker(authenticationLimits: .init(failures: 2, window: .seconds(60)))
        let tokens = fake.broker.tokens
        for _ in 0..<2 {
            let error = try await #require(throws: ServiceError.self) { try await tokens.authenticate(bearer: nil, client: "203.0.113.7") }
            #expect(error.code == .unauthenticated(.missing) && error.event != nil)
        }
        let first = try await #require(throws: ServiceError.self) { try await tokens.authenticate(bearer: "Bearer nope", client: "203.0.113.7") }
        #expect(first.code == .tooManyRequests && first.code.kind == .tooManyRequests)
        let event = try #require(first.event)
        #expect(event.action == .authFailed && event.actor == "anonymous" && event.reason == "too_many_requests")
        #expect(event.parameters == ["client": "203.0.113.7", "failures": "2", "window_seconds": "60"])
        for _ in 0..<20 {
            let again = try await #require(throws: ServiceError.self) { try await tokens.authenticate(bearer: nil, client: "203.0.113.7") }
            #expect(again.code == .tooManyRequests && again.event == nil)
        }
        #expect(fake.trail.events.count == 3, "two failures and one burst, not twenty-three events")
        let valid = try await fake.token(for: "res")
        #expect(try await tokens.authenticate(bearer: "Bearer " + valid, client: "203.0.113.7").user == "res")
        let other = try await #require(throws: ServiceError.self) { try await tokens.authenticate(bearer: nil, client: "198.51.100.1") }
        #expect(other.code == .unauthenticated(.missing))
    }

    @Test func theCommandLineHasNoClientAndNoLimit() async throws {
        let fake = try FakeBroker(authenticationLimits: .init(failures: 1, window: .seconds(60)))
        for _ in 0..<5 {
            let error = try await #require(throws: ServiceError.self) { try await fake.broker.tokens.authenticate(token: "nope") }
            #expect(error.code == .unauthenticated(.malformed))
        }
    }
}
