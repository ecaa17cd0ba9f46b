public import Logging
import SDEPolicy
public import SDEService
import SDEStore

extension BrokerConfiguration {
    /// Runs `body` with the broker's services for one command-line operation: the policy set loaded once, one database
    /// connection per call, and the audit trail open (closed with a checkpoint afterwards, whatever happens). Refuses
    /// to run while migrations are pending.
    public func withBroker<Result: Sendable>(logger: Logger, _ body: (Broker) async throws -> Result) async throws -> Result {
        let connections = DatabaseConnections.direct(database, logger: logger)
        try await connections.withDatabase { db in try await migrator.requireUpToDate(db) }
        let policies = PolicyRegistry(PolicyState(loading: try policyLoader()))
        let trail = try await openAuditTrail(logger: logger)
        let store = PostgresStore(connections: connections, executor: executor)
        let broker = Broker(
            gate: AccessGate(policies: policies, trail: trail, today: today), store: store, releases: store, tokens: store, auditArchive: store)
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
