public import Logging
public import SDEAudit
public import SDECommon
public import SDEConsole
public import SDEPolicy
public import SDEService
public import SDEStore

/// Where a broker's parts are and how it serves: the one description `serve`, the command line and the tests share.
///
/// ```swift
/// var configuration = BrokerConfiguration(database: config)
/// configuration.port = 0   // any free port
/// let app = try await buildApplication(configuration, logger: logger)
/// try await app.runService()
/// ```
public struct BrokerConfiguration: Sendable {
    /// The broker's PostgreSQL.
    public var database: DatabaseConfig
    /// The policy directory.
    public var policyDirectory = "Policies"
    /// The directory holding `migrations/`, `views/` and `local_authorities.csv`.
    public var sqlDirectory = "Sql"
    /// The state directory (embedded cluster, keys).
    public var stateDirectory = ".sde"
    /// The audit trail's JSONL mirror.
    public var auditDirectory = "AuditLogs"
    /// The address `serve` listens on (loopback by default).
    public var host = "127.0.0.1"
    /// The port `serve` listens on (0: any free port).
    public var port = 8080
    /// Cells of vetted-query statistics kept in memory for repeated queries on unchanged data (0: none). 200,000 cells
    /// are ten national tables at the cell cap, or thousands of small ones (tens of megabytes at most).
    public var statisticsCacheCells = 200_000
    /// How vetted queries run (statement timeout, cell cap).
    public var executor = QueryExecutor()
    /// How long a request waits for a pooled database connection while none is in use (PostgreSQL is gone) before it
    /// fails `database_unavailable`; the pool reconnects by itself once it is back. While connections are in use (the
    /// pool is busy), a request waits up to the statement timeout instead.
    public var databaseLeaseTimeout: Duration = .seconds(5)
    /// How long an audit write may take before the trail gives up on it (and releases nothing).
    public var auditWriteTimeout: Duration = .seconds(10)
    /// How many failed authentications one client address may have in how long before `serve` answers its failures
    /// with 429 `too_many_requests` (audited once per burst) rather than 401 (each audited).
    public var authenticationLimits: AuthenticationLimiter.Limits = .standard
    /// The most audit events between two signed checkpoints (at most 10,000).
    public var auditCheckpointEvents = AuditCheckpointPolicy.default.maxEvents
    /// The longest an audit event waits for a signed checkpoint (whole seconds, at most an hour).
    public var auditCheckpointPeriod: Duration = .seconds(AuditCheckpointPolicy.default.maxSeconds)
    /// The audit trail's verification key as configured outside the state folder (`--audit-public-key`,
    /// `SDE_AUDIT_PUBLIC_KEY`): the trail signs only with the key it names, and `audit verify` and `audit witness`
    /// judge the trail by it. `nil`: the key pinned in the database at the first start.
    public var auditPublicKey: AuditPublicKey?
    /// The web console's sessions (lifetimes, `Secure` cookies behind TLS).
    public var console = ConsoleSettings()
    /// Today's date, for decisions and token expiry.
    public var today: @Sendable () -> CivilDate = CivilDate.utcToday

    /// A configuration of the broker on `database`, with the defaults above.
    public init(database: DatabaseConfig) {
        self.database = database
    }

    /// The policy directory and the reference list its dimension values are checked against.
    public var policy: PolicySource { PolicySource(directory: policyDirectory, sqlDirectory: sqlDirectory) }

    /// A loader of the policy directory (the reference codes are read once, here).
    public func policyLoader() throws -> @Sendable () throws(PolicyError) -> PolicySet { try policy.loader() }

    /// The gap policy of ``auditCheckpointEvents`` and ``auditCheckpointPeriod``.
    public func auditCheckpointPolicy() throws -> AuditCheckpointPolicy {
        try AuditCheckpointPolicy(maxEvents: auditCheckpointEvents, maxSeconds: Int(auditCheckpointPeriod.components.seconds))
    }

    /// The audit trail (database and mirror) with the broker's signing key from the state directory, which must be the
    /// configured ``auditPublicKey``'s and the one pinned at the first start.
    public func openAuditTrail(logger: Logger) async throws -> AuditTrail {
        let key = try AuditKeyFiles(directory: stateDirectory).loadOrCreate()
        if auditPublicKey == nil {
            logger.notice(
                "no audit public key is configured: the trail is judged by the key pinned in its database (give --audit-public-key or SDE_AUDIT_PUBLIC_KEY)"
            )
        }
        return try await AuditTrail.open(
            database: database, mirrorDirectory: auditDirectory, signingKey: key, checkpointInterval: auditCheckpointEvents,
            checkpointPeriod: auditCheckpointPeriod, pinnedKey: auditPublicKey, writeTimeout: auditWriteTimeout, logger: logger)
    }

    /// The migrations of ``sqlDirectory``.
    public var migrator: Migrator { Migrator(sqlDirectory: sqlDirectory) }
}
