import SDEPolicy

/// Every service of the broker over one gate, one audit trail and the store's ports: what the HTTP API and the
/// command line call. Built once per process (see `buildApplication` in SDEServer).
///
/// ```swift
/// let broker = Broker(gate: gate, store: store, releases: store, tokens: store, auditArchive: store, cache: cache)
/// let caller = try await broker.tokens.authenticate(bearer: header)
/// let table = try await broker.queries.run(caller, project: "P2025-002", query: "requests-by-la-quarter", parameters: [:])
/// ```
public struct Broker: Sendable {
    /// The audited gate.
    public let gate: AccessGate
    /// Researchers' vetted-query runs.
    public let queries: QueryRunner
    /// Operators' regulator publications.
    public let publisher: ReleasePublisher
    /// `query show` for IG officers and operators.
    public let inspector: QueryInspector
    /// Regulators' reads of published releases.
    public let releases: ReleaseReader
    /// The IG team's audit search.
    public let audit: AuditReader
    /// Token authentication and administration.
    public let tokens: TokenService
    /// Callers' own identity and projects.
    public let identity: IdentityService
    /// The protected-query pipeline runs and publications share.
    public let pipeline: ProtectedQueryPipeline

    /// The services over `gate` and the store's ports; `authenticationLimiter` limits each client's failed
    /// authentications (the HTTP API's, see ``AuthenticationLimiter``).
    public init(
        gate: AccessGate, store: any ProtectedQueryStore, releases: any ReleaseArchive, tokens: any TokenRepository, auditArchive: any AuditArchive,
        cache: StatisticsCache? = nil, authenticationLimiter: AuthenticationLimiter? = nil
    ) {
        self.gate = gate
        pipeline = ProtectedQueryPipeline(store: store, cache: cache)
        queries = QueryRunner(gate: gate, pipeline: pipeline)
        publisher = ReleasePublisher(gate: gate, pipeline: pipeline)
        inspector = QueryInspector(gate: gate)
        self.releases = ReleaseReader(gate: gate, archive: releases)
        audit = AuditReader(gate: gate, archive: auditArchive)
        self.tokens = TokenService(gate: gate, repository: tokens, limiter: authenticationLimiter)
        identity = IdentityService(gate: gate)
    }

    /// Whether each dependency is usable now (`database`, `policy`, `audit`), for readiness checks.
    public func readiness() async -> [(name: String, ready: Bool)] {
        async let database = pipeline.store.answers(within: .seconds(2))
        async let audit = gate.trail.probe()
        let policy = await gate.policies.state.isReady
        return [("database", await database), ("policy", policy), ("audit", await audit)]
    }
}
