public import Hummingbird
public import Logging
public import SDEHTTP
import SDEConsole
import SDEPolicy
import SDEService
import SDEStore
import ServiceLifecycle

/// The broker's HTTP application: the PostgreSQL pool, the SIGHUP policy reloader and the audit trail are services of
/// its service group (the trail closes itself with a checkpoint on shutdown, after the server stops), and the server
/// starts only when no migration is pending and the signed policy set extends the versions this broker accepted
/// (``PolicyActivation``: the first root is pinned then). `serve` builds and runs this; the HTTP tests build the same
/// application.
///
/// The audit trail is opened here and closed by its service: run the application (or drop it only after a failed build).
///
/// - Throws: `StoreError` (`migrations_pending` only once it runs), ``ServerError`` when the policy set is invalid (at
///   once when its files are; once it runs when it rolls back the accepted versions).
public func buildApplication(
    _ configuration: BrokerConfiguration, metrics: BrokerMetrics = BrokerMetrics(), logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let load = try configuration.policyLoader()
    // Checked offline first, so that an unsigned or invalid set stops `serve` before anything opens; put in force only
    // once checked against the accepted versions (before the server starts).
    let offline = PolicyState(loading: load)
    guard offline.isReady else { throw ServerError.policyInvalid(offline.summary) }
    let policies = PolicyRegistry(.invalid(.unchecked("the policy set has not been checked against the accepted versions yet")))
    let trail = try await configuration.openAuditTrail(logger: logger)
    let (connections, pool) = DatabaseConnections.pool(
        configuration.database, leaseTimeout: configuration.databaseLeaseTimeout, busyLeaseTimeout: configuration.executor.statementTimeout,
        logger: logger)
    let store = PostgresStore(connections: connections, executor: configuration.executor)
    let cache =
        configuration.statisticsCacheCells > 0
        ? StatisticsCache(capacity: configuration.statisticsCacheCells, onLookup: metrics.statisticsLookup) : nil
    let gate = AccessGate(policies: policies, trail: trail, today: configuration.today)
    // The versions are checked on a connection of their own (the pool may not be running yet at start).
    let activation = PolicyActivation(
        gate: gate, ledger: PostgresStore(connections: .direct(configuration.database, logger: logger)), load: load,
        directory: configuration.policyDirectory)
    let broker = Broker(
        gate: gate, store: store, releases: store, tokens: store, auditArchive: store, cache: cache,
        authenticationLimiter: AuthenticationLimiter(limits: configuration.authenticationLimits))
    let router = BrokerAPI(broker: broker, metrics: metrics, logger: logger).router()
    try await WebConsole(broker: broker, settings: configuration.console, logger: logger).addRoutes(to: router)
    var app = Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "sde-broker"),
        services: [pool, AuditTrailService(trail: trail), PolicyReloader(activation: activation, logger: logger)],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
    let migrator = configuration.migrator, database = configuration.database
    app.beforeServerStarts {
        // On a connection of its own: the pool may not be running yet.
        try await DatabaseSession.with(database, logger: logger) { db in try await migrator.requireUpToDate(db) }
        // Rollback protection and pinning: the set must extend the signed versions this broker accepted (audited).
        let state = await activation.activate(auditingEveryLoad: false)
        guard state.isReady else { throw ServerError.policyInvalid(state.summary) }
    }
    return app
}

/// Why the server would not start.
public enum ServerError: Error, CustomStringConvertible {
    /// The policy set does not load; `policy check` says why.
    case policyInvalid(String)

    public var description: String {
        switch self {
        case .policyInvalid(let summary): "the policy set is invalid (\(summary)): run `sde-broker policy check`"
        }
    }
}
