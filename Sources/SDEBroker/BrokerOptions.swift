import ArgumentParser
import Foundation
import Logging
import SDEAudit
import SDECommon
import SDEDevCluster
import SDEServer
import SDEService
import SDEStore

/// Where the broker's files and database are: shared by every command (the one place these options are declared).
///
/// With `DATABASE_URL` set the broker uses that server; otherwise it manages an embedded cluster under `--state-dir`.
struct BrokerOptions: ParsableArguments {
    @Option(help: "Directory of the embedded PostgreSQL cluster and the broker's keys (the cluster is used when DATABASE_URL is not set).")
    var stateDir: String = ".sde"

    @Option(help: "Directory holding migrations/, views/ and local_authorities.csv.")
    var sqlDir: String = "Sql"

    @Option(help: "Directory of the audit trail's JSONL mirror.")
    var auditDir: String = "AuditLogs"

    @Option(help: "The policy directory.")
    var policyDir: String = "Policies"

    @Option(help: "Evaluate dates on this day (YYYY-MM-DD) instead of today (UTC).")
    var today: String?

    @Option(
        help: ArgumentHelp(
            "The audit trail's public key, kept outside the state folder: a PEM file or a file holding its verifier key line (or set SDE_AUDIT_PUBLIC_KEY to the line).",
            valueName: "file"))
    var auditPublicKey: String?

    @Option(help: "The most audit events between two signed checkpoints (1 to 10000).")
    var auditCheckpointEvents: Int = 1000

    @Option(help: "The most seconds an audit event waits for a signed checkpoint (1 to 3600).")
    var auditCheckpointSeconds: Int = 60

    /// The embedded cluster, or `nil` when `DATABASE_URL` names the server.
    var embedded: EmbeddedPostgres? {
        ProcessInfo.processInfo.environment["DATABASE_URL"] == nil ? EmbeddedPostgres(directory: stateDir) : nil
    }

    /// The day decisions are taken on: `--today`, else today in UTC.
    func day() throws -> CivilDate {
        guard let today else { return CivilDate.utcToday() }
        guard let date = CivilDate(parsing: today) else { throw ValidationError("--today '\(today)' is not a date (YYYY-MM-DD)") }
        return date
    }

    /// The policy set's source (no database needed).
    var policy: PolicySource { PolicySource(directory: policyDir, sqlDirectory: sqlDir) }

    /// The broker's configuration: `DATABASE_URL`, or the embedded cluster (started first when `start` is true).
    func configuration(start: Bool = false) async throws -> BrokerConfiguration {
        let database: DatabaseConfig
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"] {
            database = try DatabaseConfig(url: url)
        } else {
            let cluster = EmbeddedPostgres(directory: stateDir)
            if start, let note = cluster.serverDirectoryNote { print("   " + note) }
            database = start ? try await cluster.start(logger: .cli) : try cluster.connectionConfig()
        }
        var configuration = BrokerConfiguration(database: database)
        configuration.policyDirectory = policyDir
        configuration.sqlDirectory = sqlDir
        configuration.stateDirectory = stateDir
        configuration.auditDirectory = auditDir
        configuration.auditPublicKey = try AuditKeyFiles.configuredPublicKey(
            file: auditPublicKey, text: ProcessInfo.processInfo.environment["SDE_AUDIT_PUBLIC_KEY"])
        guard (1...AuditCheckpointPolicy.ceiling.maxEvents).contains(auditCheckpointEvents) else {
            throw ValidationError("--audit-checkpoint-events must be from 1 to \(AuditCheckpointPolicy.ceiling.maxEvents)")
        }
        guard (1...AuditCheckpointPolicy.ceiling.maxSeconds).contains(auditCheckpointSeconds) else {
            throw ValidationError("--audit-checkpoint-seconds must be from 1 to \(AuditCheckpointPolicy.ceiling.maxSeconds)")
        }
        configuration.auditCheckpointEvents = auditCheckpointEvents
        configuration.auditCheckpointPeriod = .seconds(auditCheckpointSeconds)
        let day = try day()
        if today != nil { configuration.today = { day } }
        return configuration
    }
}

/// Who runs a command that acts as a user: an API token the caller holds (`--token`, `$SDE_TOKEN`, or the file
/// `--token-file`, by default `<state-dir>/operator.token` as `quickstart` and `token bootstrap --save` write it).
/// The broker checks it like the HTTP API does and decides the action under the policy for the token's user.
struct TokenOptions: ParsableArguments {
    @Option(help: "Your API token (or set SDE_TOKEN); never put it in shell history on a shared machine.")
    var token: String?

    @Option(help: "A file holding your API token (default: <state-dir>/operator.token, when it exists).")
    var tokenFile: String?

    /// The token presented, from the first of `--token`, `$SDE_TOKEN`, `--token-file` or the state directory's file.
    func presented(stateDir: String) throws -> String {
        if let token { return token }
        if let token = ProcessInfo.processInfo.environment["SDE_TOKEN"], !token.isEmpty { return token }
        if let saved = Self.saved(at: tokenFile ?? stateDir + "/operator.token") { return saved }
        throw ValidationError(
            "this command acts as a user: pass --token, set SDE_TOKEN or give --token-file (operators: `sde-broker token bootstrap --save`)")
    }

    /// The token in the file at `path`, if it can be read.
    static func saved(at path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The caller the token authenticates (audited as `auth.failed` when it does not).
    func caller(_ broker: Broker, stateDir: String) async throws -> Caller {
        try await broker.tokens.authenticate(token: try presented(stateDir: stateDir))
    }
}

extension Logger {
    /// The command-line logger: standard error, level from `SDE_LOG_LEVEL` (default `warning`).
    static let cli: Logger = {
        var logger = Logger(label: "sde-broker")
        logger.logLevel = ProcessInfo.processInfo.environment["SDE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()
}

/// Runs `body`; a ``ServiceError`` is printed (code, message and its audit event) and becomes exit code 2 for a
/// refusal, 1 otherwise.
func reportingRefusals<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch let error as ServiceError {
        let verdict = switch error.code.kind {
        case .refused, .unauthenticated: "denied"
        default: "failed"
        }
        var text = "\(verdict) (\(error.code)): \(error.message)\n"
        if let event = error.event { text += "audit event #\(event.sequence)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        throw ExitCode(verdict == "denied" ? 2 : 1)
    }
}
