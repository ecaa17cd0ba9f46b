import SDEDisclosure
public import SDEAudit
public import SDEPolicy
public import SDECommon
import SDEQuery
public import SDEService

/// The broker's PostgreSQL behind the service layer's ports: vetted queries and the differencing ledger, stored
/// releases, API tokens, the audit search and the accepted policy versions, each call on a connection from ``connections``.
///
/// ```swift
/// let store = PostgresStore(connections: .direct(config, logger: logger))
/// let broker = Broker(gate: gate, store: store, releases: store, tokens: store, auditArchive: store)
/// ```
public struct PostgresStore: ProtectedQueryStore, ReleaseArchive, TokenRepository, AuditArchive, PolicyVersionLedger {
    /// Where connections come from.
    public let connections: DatabaseConnections
    /// How vetted queries run (statement timeout, cell cap).
    public let executor: QueryExecutor
    /// How long a token check may take before it fails as `database_unavailable`.
    public let tokenCheckTimeout: Duration

    /// A store over `connections`, running vetted queries with `executor`.
    public init(connections: DatabaseConnections, executor: QueryExecutor = QueryExecutor(), tokenCheckTimeout: Duration = .seconds(5)) {
        self.connections = connections
        self.executor = executor
        self.tokenCheckTimeout = tokenCheckTimeout
    }

    public func withSession<Result: Sendable>(_ body: (any ProtectedQuerySession) async throws -> Result) async throws -> Result {
        try await connections.withDatabase { db in try await body(Session(db: db, executor: executor)) }
    }

    public func answers(within timeout: Duration) async -> Bool {
        await connections.answers(within: timeout)
    }

    public func latest(id: String) async throws -> StoredRelease? {
        try await connections.withDatabase { db in try await ReleaseStore.latest(id: id, on: db) }
    }

    public func version(_ version: Int, of id: String) async throws -> StoredRelease? {
        try await connections.withDatabase { db in try await ReleaseStore.version(version, of: id, on: db) }
    }

    public func list() async throws -> [ReleaseSummary] {
        try await connections.withDatabase { db in try await ReleaseStore.list(on: db) }
    }

    public func issue(user: String, expires: CivilDate) async throws -> IssuedToken {
        try await connections.withDatabase { db in try await TokenStore.issue(user: user, expires: expires, on: db) }
    }

    public func authenticate(_ presented: String, today: CivilDate) async throws -> TokenCheck {
        try await connections.withDatabase { db in
            try await db.withDeadline(tokenCheckTimeout, onTimeout: .databaseUnavailable("the token check timed out")) {
                try await TokenStore.authenticate(presented, today: today, on: db)
            }
        }
    }

    public func revoke(id: String) async throws -> Bool {
        try await connections.withDatabase { db in try await TokenStore.revoke(id: id, on: db) }
    }

    public func list() async throws -> [TokenRecord] {
        try await connections.withDatabase { db in try await TokenStore.list(on: db) }
    }

    public func search(_ filter: AuditFilter, limit: Int) async throws -> [AuditEvent] {
        try await connections.withDatabase { db in try await AuditEvents.search(in: db, filter: filter, limit: limit) }
    }

    public func admit(
        _ trust: PolicyTrust, beforeCommit: (PolicyAdmission) async throws -> Void
    ) async throws -> Result<PolicyAdmission, PolicyError> {
        try await connections.withDatabase { db in try await PolicyVersionStore.admit(trust, on: db, beforeCommit: beforeCommit) }
    }

    /// One connection's worth of the protected-query port.
    private struct Session: ProtectedQuerySession {
        let db: DatabaseSession
        let executor: QueryExecutor

        func statistics(of query: CompiledQuery) async throws -> VersionedStatistics {
            try await executor.versionedRun(query, on: db)
        }

        func versions(of dataset: String) async throws -> ChangeVersions {
            try await DifferencingLedger.versions(of: dataset, on: db)
        }

        func earlierPopulations(around populations: [CountedPopulation], dataset: String, threshold: Int) async throws -> EarlierPopulations {
            try await DifferencingLedger.earlierPopulations(around: populations, dataset: dataset, threshold: threshold, on: db)
        }

        func withLedgerLock<Result: Sendable>(_ dataset: String, _ body: () async throws -> Result) async throws -> Result {
            try await DifferencingLedger.withLock(dataset, on: db, body)
        }

        func record(_ populations: [CountedPopulation], queryID: String, source: LedgerSource) async throws {
            try await DifferencingLedger.record(populations, queryID: queryID, source: source, on: db)
        }

        func withReleaseLock<Result: Sendable>(_ id: String, _ body: () async throws -> Result) async throws -> Result {
            try await db.withAdvisoryLock(ReleaseStore.lockNamespace, id, body)
        }

        func nextVersion(ofRelease id: String) async throws -> Int {
            try await ReleaseStore.nextVersion(of: id, on: db)
        }

        func append(_ version: NewReleaseVersion) async throws -> StoredRelease {
            try await ReleaseStore.append(
                id: version.id, version: version.version, policyDigest: version.policyDigest, auditSequence: version.auditSequence, json: version.json,
                csv: version.csv, auditCheckpoint: version.auditCheckpoint, on: db)
        }
    }
}

extension AuditTrail: AuditRecording {}

extension StoreError: ServiceFailure {
    /// The outcome a store failure means for the caller.
    public var serviceCode: ServiceError.Code {
        switch code {
        case .auditUnavailable: .auditUnavailable
        case .queryTimeout: .queryTimeout
        case .tooManyCells: .tooManyCells
        case .recordKeysIncomplete: .recordKeysIncomplete
        case .queryFailed: .queryFailed
        case .invalidArgument: .invalidArgument
        default: .databaseUnavailable
        }
    }
}
