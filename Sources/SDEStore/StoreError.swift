/// An error from the store: a database call, a migration, the audit trail or a vetted query's execution.
///
/// Branch on ``code``; ``message`` is safe to show (it never carries SQL text or record-level values). The underlying
/// database error, when there is one, is logged at debug level by ``DatabaseSession`` and never kept here.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of store error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidDatabaseURL = "invalid_database_url"
            case migrationFailed = "migration_failed"
            case migrationChanged = "migration_changed"
            case migrationsPending = "migrations_pending"
            case databaseUnavailable = "database_unavailable"
            case io = "io_error"
            case auditUnavailable = "audit_unavailable"
            case queryTimeout = "query_timeout"
            case tooManyCells = "too_many_cells"
            case queryFailed = "query_failed"
            case invalidArgument = "invalid_argument"
            case recordKeysIncomplete = "record_keys_incomplete"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `DATABASE_URL` could not be parsed.
        public static let invalidDatabaseURL = Code(.invalidDatabaseURL)
        /// A migration failed to apply; its transaction was rolled back.
        public static let migrationFailed = Code(.migrationFailed)
        /// An already applied migration file was edited afterwards.
        public static let migrationChanged = Code(.migrationChanged)
        /// The schema is behind the SQL files: `db migrate` must run first.
        public static let migrationsPending = Code(.migrationsPending)
        /// The database could not be reached or refused the operation.
        public static let databaseUnavailable = Code(.databaseUnavailable)
        /// A local file (SQL, audit mirror, key) could not be read or written.
        public static let io = Code(.io)
        /// The audit trail could not record an event: nothing may be released.
        public static let auditUnavailable = Code(.auditUnavailable)
        /// A vetted query ran longer than the statement timeout and was cancelled (SQLSTATE 57014).
        public static let queryTimeout = Code(.queryTimeout)
        /// A vetted query's table has more cells than the cap; nothing was read.
        public static let tooManyCells = Code(.tooManyCells)
        /// A vetted query's result did not match its compiled layout.
        public static let queryFailed = Code(.queryFailed)
        /// A value the store refuses before touching the database (e.g. a malformed user id for a token).
        public static let invalidArgument = Code(.invalidArgument)
        /// Some linked rows have no record key yet: vetted queries are refused until `data ingest` fills them in.
        public static let recordKeysIncomplete = Code(.recordKeysIncomplete)

        /// The snake_case name of the code.
        public var description: String { base.rawValue }
    }

    /// What went wrong, for branching.
    public let code: Code
    /// What went wrong, for people.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    static func invalidDatabaseURL(_ message: String) -> StoreError { StoreError(.invalidDatabaseURL, message) }
    static func migrationFailed(_ message: String) -> StoreError { StoreError(.migrationFailed, message) }
    static func migrationChanged(_ message: String) -> StoreError { StoreError(.migrationChanged, message) }
    static func migrationsPending(_ message: String) -> StoreError { StoreError(.migrationsPending, message) }
    /// The database could not be reached or refused the operation.
    public static func databaseUnavailable(_ message: String) -> StoreError { StoreError(.databaseUnavailable, message) }
    static func io(_ message: String) -> StoreError { StoreError(.io, message) }
    /// The audit trail could not record an event.
    public static func auditUnavailable(_ message: String) -> StoreError { StoreError(.auditUnavailable, message) }
    static func queryTimeout(_ message: String) -> StoreError { StoreError(.queryTimeout, message) }
    static func tooManyCells(_ message: String) -> StoreError { StoreError(.tooManyCells, message) }
    static func queryFailed(_ message: String) -> StoreError { StoreError(.queryFailed, message) }
    static func invalidArgument(_ message: String) -> StoreError { StoreError(.invalidArgument, message) }
    static func recordKeysIncomplete(_ message: String) -> StoreError { StoreError(.recordKeysIncomplete, message) }
}
