public import Logging
import PostgresNIO
public import ServiceLifecycle

/// Where a service gets its database connections: a fresh connection per call (the command line, tests) or a
/// connection from a pool (the HTTP server, whose ``PostgresClient`` runs in its service group).
///
/// ```swift
/// let (connections, pool) = DatabaseConnections.pool(config, logger: logger)   // run `pool` in the service group
/// let count = try await connections.withDatabase { db in try await db.query("SELECT 1") }
/// ```
public struct DatabaseConnections: Sendable {
    private enum Source: Sendable {
        case direct(DatabaseConfig)
        case pooled(PostgresClient)
    }

    private let source: Source
    /// The logger every connection logs into.
    public let logger: Logger

    /// One new connection per ``withDatabase(_:)`` call, closed afterwards.
    public static func direct(_ config: DatabaseConfig, logger: Logger) -> DatabaseConnections {
        DatabaseConnections(source: .direct(config), logger: logger)
    }

    /// Connections leased from a pool of `config`'s server, and the pool, a service that must run (in the server's
    /// service group) for as long as they are used.
    public static func pool(_ config: DatabaseConfig, logger: Logger) -> (connections: DatabaseConnections, pool: any Service) {
        let client = PostgresClient(configuration: config.clientConfiguration, backgroundLogger: logger.postgresDriver)
        return (DatabaseConnections(source: .pooled(client), logger: logger), client)
    }

    /// Runs `body` with a connection; failures to get one are ``StoreError/databaseUnavailable(_:)``.
    public func withDatabase<Result: Sendable>(_ body: (DatabaseSession) async throws -> Result) async throws -> Result {
        switch source {
        case .direct(let config):
            return try await DatabaseSession.with(config, logger: logger, body)
        case .pooled(let client):
            var leased = false
            do {
                return try await client.withConnection { connection in
                    leased = true
                    return try await body(DatabaseSession(connection: connection, logger: logger))
                }
            } catch let error as StoreError {
                throw error
            } catch where !leased {
                logger.debug("connection lease failed", metadata: ["sde.db.error": "\(DatabaseSession.reason(error))"])
                throw StoreError.databaseUnavailable("cannot get a database connection: \(DatabaseSession.reason(error))")
            }
        }
    }

    /// Whether the database answers `SELECT 1` within `timeout` (a readiness check).
    public func answers(within timeout: Duration) async -> Bool {
        do {
            try await withDatabase { db in try await db.ping(within: timeout, onTimeout: .databaseUnavailable("the database did not answer in time")) }
            return true
        } catch {
            return false
        }
    }
}
