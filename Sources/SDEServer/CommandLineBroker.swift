public import Logging
import SDEPolicy
public import SDEService
import SDEStore

extension BrokerConfiguration {
    /// Runs `body` with the broker's services for one command-line operation: the policy set loaded once and checked
    /// against the signed versions this broker accepted (pinned, or a new version recorded and audited; a refused set
    /// serves nothing, and every decision says why, naming the file and line), one database connection per call, and
    /// the audit trail open (closed with a checkpoint afterwards, whatever happens). Refuses to run while migrations
    /// are pending.
    public func withBroker<Result: Sendable>(logger: Logger, _ body: (Broker) async throws -> Result) async throws -> Result {
        let connections = DatabaseConnections.direct(database, logger: logger)
        try await connections.withDatabase { db in try await migrator.requireUpToDate(db) }
        let load = try policyLoader()
        let policies = PolicyRegistry(.invalid(.unchecked("the policy set has not been loaded yet")))
        let trail = try await openAuditTrail(logger: logger)
        let store = PostgresStore(connections: connections, executor: executor)
        let gate = AccessGate(policies: policies, trail: trail, today: today)
        await PolicyActivation(gate: gate, ledger: store, load: load, directory: policyDirectory).activate(auditingEveryLoad: false)
        let broker = Broker(gate: gate, store: store, releases: store, tokens: store, auditArchive: store)
        do {
            let result = try await body(broker)
            await trail.close()
            return result
        } catch {
            await trail.close()
            throw error
        }
    }
}
