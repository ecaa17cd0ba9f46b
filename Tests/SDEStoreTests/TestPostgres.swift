import Foundation
import Logging
import SDEDevCluster
import SDEStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL server for this test run: `DATABASE_URL`'s when set, otherwise a throwaway cluster in a temp
/// directory, started once and stopped and removed when the test process exits. Each test gets its own database.
actor TestPostgres {
    static let shared = TestPostgres()
    static let logger = Logger(label: "sde.test")

    /// Started once; every test awaits the same task (the actor is re-entrant across awaits, so a flag would not do).
    private var server: Task<DatabaseConfig, any Error>?

    /// The repository's `Sql/` directory.
    static let sqlDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sql").path

    /// Runs `body` against a fresh, empty database that is dropped afterwards.
    static func withDatabase<Result: Sendable>(
        migrated: Bool = true, _ body: (DatabaseConfig, DatabaseSession) async throws -> Result
    ) async throws -> Result {
        let server = try await shared.serverConfig()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await DatabaseSession.with(server, logger: logger) { admin in try await admin.execute(unsafeSQL: "CREATE DATABASE \(name)") }
        let config = server.with(database: String(name))
        do {
            let result = try await DatabaseSession.with(config, logger: logger) { db in
                if migrated { try await Migrator(sqlDirectory: sqlDirectory).migrate(db) }
                return try await body(config, db)
            }
            try await drop(name, server)
            return result
        } catch {
            try? await drop(name, server)
            throw error
        }
    }

    private static func drop(_ name: some StringProtocol, _ server: DatabaseConfig) async throws {
        try await DatabaseSession.with(server, logger: logger) { admin in try await admin.execute(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)") }
    }

    private func serverConfig() async throws -> DatabaseConfig {
        if let server { return try await server.value }
        let task = Task { try await Self.startServer() }
        server = task
        return try await task.value
    }

    private static func startServer() async throws -> DatabaseConfig {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"] {
            return try DatabaseConfig(url: url)
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-test-\(getpid())").path
            let cluster = EmbeddedPostgres(directory: directory)
            throwawayClusterDirectory = strdup(directory)
            atexit {
                guard let path = throwawayClusterDirectory else { return }
                try? EmbeddedPostgres(directory: String(cString: path)).destroy()
            }
            return try await cluster.start(logger: logger)
        }
    }
}

/// Read by the `atexit` handler, which cannot capture context; written once, before the handler is registered.
nonisolated(unsafe) private var throwawayClusterDirectory: UnsafeMutablePointer<CChar>?
