/// An error from the store: the embedded cluster, migrations, ingest or a database call.
///
/// Messages never carry SQL text or record-level values; the underlying database error is logged
/// server-side (with `String(reflecting:)`) by the caller that has a logger.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case processFailed, clusterNotRunning, postgresNotInstalled, invalidDatabaseURL, migrationFailed
        case migrationChanged, databaseUnavailable, ingestRefused, io, auditUnavailable
        case queryTimeout, tooManyCells, queryFailed, invalidArgument, recordKeysIncomplete
    }

    private let code: Code
    /// A human-readable, specific message, safe to show to the operator.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// A helper program (initdb, pg_ctl) could not run or failed.
    public static func processFailed(_ message: String) -> StoreError { StoreError(.processFailed, message) }
    /// The embedded cluster is not running.
    public static func clusterNotRunning(_ message: String) -> StoreError { StoreError(.clusterNotRunning, message) }
    /// PostgreSQL's server programs were not found.
    public static func postgresNotInstalled(_ message: String) -> StoreError { StoreError(.postgresNotInstalled, message) }
    /// `DATABASE_URL` could not be parsed.
    public static func invalidDatabaseURL(_ message: String) -> StoreError { StoreError(.invalidDatabaseURL, message) }
    /// A migration failed to apply; the transaction was rolled back.
    public static func migrationFailed(_ message: String) -> StoreError { StoreError(.migrationFailed, message) }
    /// An already applied migration file was edited afterwards.
    public static func migrationChanged(_ message: String) -> StoreError { StoreError(.migrationChanged, message) }
    /// The database could not be reached or refused the operation.
    public static func databaseUnavailable(_ message: String) -> StoreError { StoreError(.databaseUnavailable, message) }
    /// Ingest refused to start or stopped without changing the database.
    public static func ingestRefused(_ message: String) -> StoreError { StoreError(.ingestRefused, message) }
    /// A local file or directory could not be read or written.
    public static func io(_ message: String) -> StoreError { StoreError(.io, message) }
    /// The audit trail could not record an event: nothing may be released.
    public static func auditUnavailable(_ message: String) -> StoreError { StoreError(.auditUnavailable, message) }
    /// True for ``auditUnavailable(_:)`` errors (the HTTP layer maps them to `audit_unavailable`).
    public var isAuditUnavailable: Bool { code == .auditUnavailable }

    /// A stable machine-readable code, e.g. `query_timeout`, for audit events and API errors.
    public var identifier: String {
        switch code {
        case .processFailed: "process_failed"
        case .clusterNotRunning: "cluster_not_running"
        case .postgresNotInstalled: "postgres_not_installed"
        case .invalidDatabaseURL: "invalid_database_url"
        case .migrationFailed: "migration_failed"
        case .migrationChanged: "migration_changed"
        case .databaseUnavailable: "database_unavailable"
        case .ingestRefused: "ingest_refused"
        case .io: "io_error"
        case .auditUnavailable: "audit_unavailable"
        case .queryTimeout: "query_timeout"
        case .tooManyCells: "too_many_cells"
        case .queryFailed: "query_failed"
        case .invalidArgument: "invalid_argument"
        case .recordKeysIncomplete: "record_keys_incomplete"
        }
    }
    /// A vetted query ran longer than the statement timeout and was cancelled by PostgreSQL (SQLSTATE 57014).
    public static func queryTimeout(_ message: String) -> StoreError { StoreError(.queryTimeout, message) }
    /// A vetted query returned more cells than the configured cap; its result was discarded.
    public static func tooManyCells(_ message: String) -> StoreError { StoreError(.tooManyCells, message) }
    /// A vetted query's result could not be read into a statistics table (it did not match its compiled layout).
    public static func queryFailed(_ message: String) -> StoreError { StoreError(.queryFailed, message) }
    /// A caller passed a value the store refuses before touching the database (e.g. a malformed user id for a token).
    public static func invalidArgument(_ message: String) -> StoreError { StoreError(.invalidArgument, message) }
    /// Some linked rows have no record key yet (loaded before record keys existed): vetted queries are refused, rather than
    /// compute cell keys that miss persons, until `data ingest` with the perturbation key fills them in.
    public static func recordKeysIncomplete(_ message: String) -> StoreError { StoreError(.recordKeysIncomplete, message) }
}
