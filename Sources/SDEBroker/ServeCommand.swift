import ArgumentParser
import Hummingbird
import Logging
import PostgresNIO
import SDECommon
import SDEHTTP
import SDEPolicy
import SDEPolicyFiles
import SDEStore
import ServiceLifecycle
import UnixSignals

/// `sde-broker serve`: the HTTP API, until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (researchers, IG officers, regulators); SIGHUP reloads the policies, SIGTERM stops gracefully.")

    @Option(help: "Address to listen on (loopback by default).") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "The policy directory.") var policyDir = "Policies"
    @Option(help: "Cells of vetted-query statistics kept in memory for repeated queries on unchanged data (0: none).")
    var statisticsCacheCells = ServeDefaults.statisticsCacheCells
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard statisticsCacheCells >= 0 else { throw ValidationError("--statistics-cache-cells must be 0 or more") }
    }

    func run() async throws {
        try await serveAPI(
            host: host, port: port, policyDir: policyDir, database: database, start: false, statisticsCacheCells: statisticsCacheCells)
    }
}

/// Defaults of `serve` that `quickstart --serve` shares.
enum ServeDefaults {
    /// 200,000 cells: ten national tables at the cell cap, or thousands of small ones (tens of megabytes at most).
    static let statisticsCacheCells = 200_000
}

/// Runs the API in one service group with the PostgreSQL client pool and the SIGHUP policy reloader, refusing to start
/// while migrations are pending. When it stops (SIGTERM or SIGINT: in-flight requests finish first), the audit trail
/// is closed with a signed checkpoint.
func serveAPI(
    host: String, port: Int, policyDir: String, database: DatabaseOptions, start: Bool,
    statisticsCacheCells: Int = ServeDefaults.statisticsCacheCells,
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws {
    var logger = Logger.cli
    logger[metadataKey: "sde.service"] = "http"
    let config = try await database.config(logger: logger, start: start)
    let pending = try await DatabaseSession.with(config, logger: logger) { try await database.migrator.pending($0) }
    guard pending.isEmpty else {
        throw ValidationError("\(pending.count) migration(s) pending (\(pending.joined(separator: ", "))): run `sde-broker db migrate` first")
    }
    let reference = try referenceCodes(csvAt: database.sqlDir + "/local_authorities.csv")
    let load: @Sendable () throws(PolicyError) -> PolicySet = { () throws(PolicyError) in try PolicyDirectory.load(at: policyDir, reference: reference) }
    let registry = PolicyRegistry(PolicyState(loading: load))
    guard await registry.state.isReady else { throw ValidationError("the policy set is invalid: run `sde-broker policy check`") }

    let trail = try await database.auditTrail(logger: logger)
    let client = PostgresClient(configuration: config.clientConfiguration, backgroundLogger: logger)
    let api = BrokerAPI(
        policies: registry, connections: .pooled(client, logger: logger), trail: trail,
        statisticsCacheCells: statisticsCacheCells, logger: logger)
    let reloader = PolicyReloader(registry: registry, trail: trail, logger: logger, load: load)
    let app = Application(
        router: api.router(),
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "sde-broker"),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
        logger: logger)
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [
                .init(service: client),
                .init(service: reloader),
                .init(service: app, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    do {
        try await group.run()
    } catch {
        await trail.close()
        throw error
    }
    await trail.close()
}
