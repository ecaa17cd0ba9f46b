import ArgumentParser
import Foundation
import Logging
import SDEAudit
import SDECommon
import SDEExtracts
import SDEPolicy
import SDEDevCluster
import SDEStore

/// Where the database and the SQL files are: shared by every command that touches PostgreSQL.
///
/// With `DATABASE_URL` set the broker uses that server; otherwise it manages an embedded cluster under `--state-dir`.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Directory of the embedded PostgreSQL cluster (used when DATABASE_URL is not set).")
    var stateDir: String = ".sde"

    @Option(help: "Directory holding migrations/, views/ and local_authorities.csv.")
    var sqlDir: String = "Sql"

    @Option(help: "Directory of the audit trail's JSONL mirror.")
    var auditDir: String = "AuditLogs"

    /// The embedded cluster, or `nil` when `DATABASE_URL` names the server.
    var embedded: EmbeddedPostgres? {
        ProcessInfo.processInfo.environment["DATABASE_URL"] == nil ? EmbeddedPostgres(directory: stateDir) : nil
    }

    /// How to connect: `DATABASE_URL`, or the embedded cluster (started first when `start` is true).
    func config(logger: Logger, start: Bool = false) async throws -> DatabaseConfig {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"] { return try DatabaseConfig(url: url) }
        let cluster = EmbeddedPostgres(directory: stateDir)
        return start ? try await cluster.start(logger: logger) : try cluster.connectionConfig()
    }

    var migrator: Migrator { Migrator(sqlDirectory: sqlDir) }

    /// Opens the audit trail (database and mirror) with the broker's signing key from the state directory.
    func auditTrail(logger: Logger) async throws -> AuditTrail {
        let key = try AuditKeyFiles(directory: stateDir).loadOrCreate()
        return try await AuditTrail.open(database: try await config(logger: logger), mirrorDirectory: auditDir, signingKey: key, logger: logger)
    }
}

/// The operator running a command-line operation, as the audit trail names them: `$SUDO_USER` or `$USER` when it is a plain
/// name (`Identifier.isName`), else `operator`.
var operatorName: String {
    let env = ProcessInfo.processInfo.environment
    let name = env["SUDO_USER"] ?? env["USER"] ?? "operator"
    return Identifier.isName(name) ? name : "operator"
}

extension Logger {
    /// The command-line logger: standard error, level from `SDE_LOG_LEVEL` (default `warning`).
    static let cli: Logger = {
        var logger = Logger(label: "sde-broker")
        logger.logLevel = ProcessInfo.processInfo.environment["SDE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()
}

/// The local authority → region codes the policy loader checks dimension values against.
func referenceCodes(csvAt path: String) throws -> ReferenceCodes {
    let authorities = try LocalAuthority.load(from: path)
    return ReferenceCodes(regionOfLocalAuthority: Dictionary(uniqueKeysWithValues: authorities.map { ($0.code, $0.regionCode) }))
}

/// Runs `body` with the audit trail open, and closes it (with a checkpoint) afterwards, whatever happens.
func withAuditTrail<Result: Sendable>(_ database: DatabaseOptions, _ body: (AuditTrail) async throws -> Result) async throws -> Result {
    let trail = try await database.auditTrail(logger: .cli)
    do {
        let result = try await body(trail)
        await trail.close()
        return result
    } catch {
        await trail.close()
        throw error
    }
}
