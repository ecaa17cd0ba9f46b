public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
package import PostgresNIO

/// One connection to the broker's PostgreSQL, for command-line operations (migrate, ingest) and tests.
///
/// Database errors are turned into ``StoreError`` messages that name what failed, never the SQL or a value; the
/// operation and the SQLSTATE go to the logger at debug level (no log line at any level carries SQL).
///
/// ```swift
/// try await DatabaseSession.with(config, logger: logger) { db in
///     try await Migrator(sqlDirectory: "Sql").migrate(db)
/// }
/// ```
public struct DatabaseSession: Sendable {
    /// The underlying postgres-nio connection.
    package let connection: PostgresConnection
    /// The logger every query logs into.
    public let logger: Logger

    /// Connects, runs `body`, and closes the connection whatever happens.
    public static func with<Result: Sendable>(
        _ config: DatabaseConfig, logger: Logger, _ body: (DatabaseSession) async throws -> Result
    ) async throws -> Result {
        let db = try await connect(config, logger: logger)
        do {
            let result = try await body(db)
            try? await db.connection.close()
            return result
        } catch {
            try? await db.connection.close()
            throw error
        }
    }

    /// Opens a connection, or fails with a clear `databaseUnavailable` error.
    public static func connect(_ config: DatabaseConfig, logger: Logger) async throws(StoreError) -> DatabaseSession {
        let options = PostgresConnection.Configuration(
            host: config.host, port: config.port, username: config.username, password: config.password, database: config.database, tls: .disable
        )
        do {
            let connection = try await PostgresConnection.connect(configuration: options, id: 1, logger: logger.postgresDriver)
            return DatabaseSession(connection: connection, logger: logger)
        } catch {
            logger.debug("connect failed", metadata: ["sde.db.error": "\(Self.reason(error))"])
            throw .databaseUnavailable("cannot connect to PostgreSQL at \(config.redacted): \(Self.reason(error))")
        }
    }

    /// Runs a query and returns its rows.
    package func query(_ query: PostgresQuery, _ what: @autoclosure () -> String = "query") async throws(StoreError) -> PostgresRowSequence {
        do {
            return try await connection.query(query, logger: logger.postgresDriver)
        } catch {
            throw failure(error, what())
        }
    }

    /// Runs a statement of the broker's own whose SQL never changes: prepared once per connection, so PostgreSQL parses
    /// it once and may keep its plan. Returns its rows, decoded.
    package func query<Statement: PostgresPreparedStatement>(
        _ statement: Statement, _ what: @autoclosure () -> String
    ) async throws(StoreError) -> AsyncThrowingMapSequence<PostgresRowSequence, Statement.Row> {
        do {
            return try await connection.execute(statement, logger: logger.postgresDriver)
        } catch {
            throw failure(error, what())
        }
    }

    /// Runs a statement and ignores rows.
    package func execute(_ query: PostgresQuery, _ what: @autoclosure () -> String = "statement") async throws(StoreError) {
        do {
            let rows = try await connection.query(query, logger: logger.postgresDriver)
            for try await _ in rows {}
        } catch {
            throw failure(error, what())
        }
    }

    /// Runs a statement the code wrote itself (DDL, identifiers from the catalogue); never user input.
    package func execute(unsafeSQL sql: String, _ what: @autoclosure () -> String = "statement") async throws(StoreError) {
        try await execute(PostgresQuery(unsafeSQL: sql), what())
    }

    /// Runs `body` inside a transaction (`READ ONLY` when asked): committed when it returns, rolled back when it throws.
    public func transaction<Result: Sendable>(_ what: String, readOnly: Bool = false, _ body: () async throws -> Result) async throws -> Result {
        try await execute(readOnly ? "BEGIN READ ONLY" : "BEGIN", "begin \(what)")
        do {
            let result = try await body()
            try await execute("COMMIT", "commit \(what)")
            return result
        } catch {
            try? await execute("ROLLBACK", "roll back \(what)")
            throw error
        }
    }

    /// A `StoreError` for a failed database call, logged at debug level as the operation's name and the SQLSTATE (or
    /// the connection problem) only: never `String(reflecting:)` of a PSQLError, which holds the statement's SQL.
    func failure(_ error: any Error, _ what: String) -> StoreError {
        if let store = error as? StoreError { return store }
        logger.debug("database call failed", metadata: ["sde.db.operation": "\(what)", "sde.db.error": "\(Self.reason(error))"])
        return .databaseUnavailable("\(what) failed: \(Self.reason(error))")
    }

    /// What a log line may say about `error`: a store error's own message (value-free by construction), otherwise
    /// ``reason(_:)``.
    static func logDescription(_ error: any Error) -> String {
        (error as? StoreError)?.message ?? reason(error)
    }

    /// A short, value-free reason: the SQLSTATE class and message of a server error, or the connection problem.
    static func reason(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return "unexpected error" }
        // The server's message text can quote values (e.g. invalid input syntax), so only the SQLSTATE is shown.
        if let state = psql.serverInfo?[.sqlState] {
            let known = [
                "23505": "unique violation", "23503": "foreign key violation", "23514": "check violation", "23502": "not-null violation",
                "42501": "insufficient privilege", "57014": "statement timeout or cancel", "3D000": "database does not exist",
                "28P01": "password authentication failed", "53100": "disk full", "40001": "serialization failure",
                "P0001": "refused by a trigger", "42P01": "relation does not exist", "25006": "read-only transaction",
            ]
            return "SQLSTATE \(state)\(known[state].map { " (" + $0 + ")" } ?? "")"
        }
        switch psql.code {
        case .connectionError: return connectionFailure(psql.underlying)
        case .serverClosedConnection, .clientClosedConnection: return "connection closed"
        default: return "\(psql.code)"
        }
    }

    /// Why a connection could not be made: no answer in time, a refusal, or a connection lost on the way.
    private static func connectionFailure(_ underlying: (any Error)?) -> String {
        if let channel = underlying as? ChannelError, case .connectTimeout = channel { return "no answer within the connect timeout" }
        if let io = underlying as? IOError, io.errnoCode == ECONNREFUSED { return "connection refused" }
        if underlying is NIOConnectionError { return "connection refused" }
        return "connection lost"
    }
}

extension DatabaseSession {
    /// Runs `body` but gives up after `timeout`: the caller gets `onTimeout` and the connection is closed.
    ///
    /// A task group cannot do this, because it waits for a child that never answers; here the hung call is left
    /// behind on a connection that is being closed, and the caller goes on.
    public func withDeadline<Result: Sendable>(
        _ timeout: Duration, onTimeout: StoreError, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let connection = self.connection
        return try await withCheckedThrowingContinuation { continuation in
            let resumer = OnceResumer(continuation)
            let work = Task {
                do { resumer.resume(with: .success(try await body())) } catch { resumer.resume(with: .failure(error)) }
            }
            Task {
                try? await Task.sleep(for: timeout)
                guard resumer.resume(with: .failure(onTimeout)) else { return }
                work.cancel()
                connection.close().whenComplete { _ in }
            }
        }
    }
}

extension DatabaseSession {
    /// Runs `SELECT 1`, failing with `onTimeout` when the server does not answer within `timeout`.
    public func ping(within timeout: Duration, onTimeout: StoreError) async throws {
        try await withDeadline(timeout, onTimeout: onTimeout) { try await self.execute("SELECT 1", "ping the database") }
    }
}

extension Logger {
    /// This logger as postgres-nio gets it: never below `debug`, because postgres-nio's trace lines carry each
    /// statement's SQL (`sendParseDescribeBindExecuteSync(PostgresQuery(sql: ...))`) and the rows it receives, and the
    /// broker logs no SQL, record value or key at any level (`SDE_LOG_LEVEL=trace` included).
    package var postgresDriver: Logger {
        var driver = self
        if driver.logLevel < .debug { driver.logLevel = .debug }
        return driver
    }
}

/// Resumes a continuation exactly once, from whichever racer gets there first.
private final class OnceResumer<Value: Sendable>: Sendable {
    private let state: NIOLockedValueBox<CheckedContinuation<Value, any Error>?>

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        state = NIOLockedValueBox(continuation)
    }

    /// Resumes with `result` unless already resumed; true when this call did it.
    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        guard let continuation = state.withLockedValue({ value in defer { value = nil }; return value }) else { return false }
        continuation.resume(with: result)
        return true
    }
}

/// A prepared statement whose one parameter (`$1`) is a text key.
protocol TextKeyStatement: PostgresPreparedStatement {
    /// The value bound to `$1`.
    var key: String { get }
}

extension TextKeyStatement {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(key)
        return bindings
    }
}
