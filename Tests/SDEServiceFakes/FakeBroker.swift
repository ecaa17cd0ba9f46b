public import SDECommon
public import SDEPolicy
public import SDEService

/// A ``Broker`` over in-memory ports and the fixture's policy set, decided on a fixed day: what the service and HTTP
/// tests call, with every fake at hand to inspect or to make fail.
///
/// ```swift
/// let fake = try FakeBroker()
/// let table = try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: ["from": "2024Q1", "to": "2024Q2"])
/// #expect(fake.trail.events.count == 1)
/// ```
public struct FakeBroker: Sendable {
    /// The policy in force (reload it to test an invalid set).
    public let policies: PolicyRegistry
    /// The audit trail.
    public let trail: InMemoryAuditTrail
    /// Statements, the differencing ledger and release publication.
    public let store: InMemoryQueryStore
    /// Stored release versions.
    public let releases: InMemoryReleaseArchive
    /// API tokens.
    public let tokens: InMemoryTokenRepository
    /// The audit search over ``trail``.
    public let auditArchive: InMemoryAuditArchive
    /// The services over all of these.
    public let broker: Broker
    /// The day every decision is taken on.
    public let today: CivilDate

    /// A broker under `policy` (the standard fixture's set when `nil`) on `today`, with `cache` and a limit on each
    /// client's failed authentications (`authenticationLimits`) if given.
    public init(
        policy: PolicyState? = nil, today: CivilDate = PolicyFixture.today, cache: StatisticsCache? = nil,
        authenticationLimits: AuthenticationLimiter.Limits? = nil
    ) throws {
        policies = PolicyRegistry(try policy ?? .valid(PolicyFixture.standard.load()))
        trail = InMemoryAuditTrail()
        releases = InMemoryReleaseArchive()
        store = InMemoryQueryStore(releases: releases)
        tokens = InMemoryTokenRepository()
        auditArchive = InMemoryAuditArchive(trail: trail)
        self.today = today
        let gate = AccessGate(policies: policies, trail: trail, today: { today })
        broker = Broker(
            gate: gate, store: store, releases: releases, tokens: tokens, auditArchive: auditArchive, cache: cache,
            authenticationLimiter: authenticationLimits.map { AuthenticationLimiter(limits: $0) })
    }

    /// A caller authenticated as `user` (by a token that need not exist: the services take callers as given).
    public func caller(_ user: String) -> Caller {
        Caller(user: user, tokenID: "00000000000000ff")
    }

    /// A bearer token for `user`, valid for 30 days (or to `expires`), issued straight into the repository (unaudited,
    /// as a test's setup).
    public func token(for user: String, expires: CivilDate? = nil) async throws -> String {
        try await tokens.issue(user: user, expires: expires ?? today.adding(days: 30)).token
    }
}
