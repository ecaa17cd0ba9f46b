public import SDEService
import Logging
import PostgresNIO
import SDECommon
public import SDEDisclosure
public import SDEQuery

/// Runs a ``CompiledQuery`` against the curated views and returns the disclosure engine's input table.
///
/// Every run is one READ ONLY transaction that first drops to the `sde_reader` role (`SET LOCAL ROLE`), which may
/// SELECT the curated views and nothing else, and sets a `statement_timeout` for the query and turns JIT off. The
/// result is read row by row and refused once it passes ``maxCells`` cells (rows × measures). The connecting role
/// must be a member of `sde_reader` (or a superuser). Errors are ``StoreError``s without SQL text or values; a
/// statement timeout (SQLSTATE 57014) is ``StoreError/queryTimeout(_:)``. While any linked row lacks its record key
/// (`broker.record_keys_complete()`, read in the same transaction), no statement runs:
/// ``StoreError/recordKeysIncomplete(_:)``.
///
/// ```swift
/// let compiled = try QueryCompiler.compile(run)
/// let table = try await QueryExecutor(statementTimeout: .seconds(30), maxCells: 20_000).run(compiled, on: db)
/// let protected = try DisclosureControl(rules: run.rules).protect(table)
/// ```
public struct QueryExecutor: Sendable {
    /// The role vetted queries run as.
    public static let readerRole = "sde_reader"

    /// How long PostgreSQL may spend on the statement before cancelling it (rounded up to whole milliseconds).
    public var statementTimeout: Duration
    /// The most cells (result rows × measures) a query may return; more is refused.
    public var maxCells: Int

    /// An executor; the defaults are a 30-second timeout and 20,000 cells.
    public init(statementTimeout: Duration = .seconds(30), maxCells: Int = 20_000) {
        self.statementTimeout = statementTimeout
        self.maxCells = maxCells
    }

    /// Runs `query` on `db` and returns its statistics table: every cell and margin, in the statement's order.
    public func run(_ query: CompiledQuery, on db: DatabaseSession) async throws(StoreError) -> StatisticsTable {
        try await versionedRun(query, on: db).statistics
    }

    /// Runs `query` as ``run(_:on:)`` does, and also returns the data version (`broker.data_version`) read in the same
    /// transaction just before the statement: the statistics reflect that version's data, or newer.
    public func versionedRun(_ query: CompiledQuery, on db: DatabaseSession) async throws(StoreError) -> VersionedStatistics {
        // A complete table has every catalogue row: refuse one over the cap before running anything.
        guard query.minimumRows * max(1, query.measures.count) <= maxCells else { throw tooManyCells(query) }
        return try await inReaderTransaction(query, on: db) { what, version in
            VersionedStatistics(statistics: query.table(try await fetch(query, db, what)), dataVersion: version)
        }
    }

    /// Runs `query` exactly as ``run(_:on:)`` does (same transaction, role and timeout) but only reads its rows to the
    /// end without decoding them: PostgreSQL's own time for the statement, which the query benchmark compares with.
    /// Returns the number of rows.
    func drain(_ query: CompiledQuery, on db: DatabaseSession) async throws(StoreError) -> Int {
        try await inReaderTransaction(query, on: db) { what, _ in
            var count = 0
            do {
                let statement = PostgresQuery(unsafeSQL: query.sql, binds: query.bindings)
                for try await _ in try await db.connection.query(statement, logger: db.logger.postgresDriver) {
                    count += 1
                }
            } catch {
                throw db.failure(error, what)
            }
            return count
        }
    }

    /// Runs `EXPLAIN (ANALYZE, BUFFERS)` of `query` as ``drain(_:on:)`` runs the query, and returns the plan's lines.
    func explainAnalyze(_ query: CompiledQuery, on db: DatabaseSession) async throws(StoreError) -> [String] {
        try await inReaderTransaction(query, on: db) { what, _ in
            var lines: [String] = []
            do {
                let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS) " + query.sql, binds: query.bindings)
                let rows = try await db.connection.query(explain, logger: db.logger.postgresDriver)
                for try await line in rows.decode(String.self) { lines.append(line) }
            } catch {
                throw db.failure(error, what)
            }
            return lines
        }
    }

    /// Runs `body` in a READ ONLY transaction as ``readerRole`` with the statement timeout set; `body` gets a description
    /// for errors and the data version read as the transaction began.
    private func inReaderTransaction<Result: Sendable>(
        _ query: CompiledQuery, on db: DatabaseSession, _ body: (String, Int64) async throws -> Result
    ) async throws(StoreError) -> Result {
        let what = "vetted query \(query.queryID)"
        do {
            return try await db.transaction(what, readOnly: true) {
                // One round trip: the data version and whether every row has its record key (read with the connecting
                // role's rights: permissions are checked before the statement runs), the reader role, the timeout, and
                // no JIT (for these aggregate statements compiling costs more than it saves: seconds at 1M persons).
                // set_config('role') is SET LOCAL ROLE, checks included.
                let timeout = String(timeoutMilliseconds)
                let rows = try await db.query(
                    """
                    SELECT (SELECT version FROM broker.data_version), broker.record_keys_complete(),
                           set_config('role', \(Self.readerRole), true), set_config('statement_timeout', \(timeout), true),
                           set_config('jit', 'off', true)
                    """, "switch \(what) to \(Self.readerRole) with its timeout")
                var version: Int64?
                var keysComplete = false
                for try await (read, complete, _, _, _) in rows.decode((Int64, Bool, String, String, String).self) {
                    version = read
                    keysComplete = complete
                }
                guard let version else { throw StoreError.queryFailed("\(what) found no data version") }
                guard keysComplete else {
                    throw StoreError.recordKeysIncomplete(
                        "\(what) was not run: some records have no record key yet; an operator must run `data ingest` with the perturbation key")
                }
                return try await body(what, version)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw db.failure(error, what)
        }
    }

    /// The timeout in whole milliseconds, at least 1 (PostgreSQL reads 0 as no timeout).
    var timeoutMilliseconds: Int {
        let (seconds, attoseconds) = statementTimeout.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return max(1, Int(milliseconds))
    }

    /// Runs the statement and decodes its rows, stopping at the cell cap.
    private func fetch(_ query: CompiledQuery, _ db: DatabaseSession, _ what: String) async throws(StoreError) -> [StatisticsRow] {
        let cellsPerRow = max(1, query.measures.count)
        var rows: [StatisticsRow] = []
        do {
            let sequence = try await db.connection.query(PostgresQuery(unsafeSQL: query.sql, binds: query.bindings), logger: db.logger.postgresDriver)
            for try await row in sequence {
                guard (rows.count + 1) * cellsPerRow <= maxCells else { throw tooManyCells(query) }
                rows.append(try query.statisticsRow(Self.values(of: row, query.columns)))
            }
        } catch let error as StoreError {
            throw error
        } catch let error as QueryError {
            db.logger.error(
                "result does not match the compiled layout", metadata: ["sde.query.id": "\(query.queryID)", "sde.query.error": "\(error)"])
            throw .queryFailed("\(what) returned a result that does not match its compiled layout")
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "57014" {
            db.logger.debug("statement timeout", metadata: ["sde.query.id": "\(query.queryID)", "sde.db.error": "\(DatabaseSession.reason(error))"])
            throw .queryTimeout("\(what) was cancelled after the statement timeout of \(timeoutMilliseconds) ms")
        } catch {
            throw db.failure(error, what)
        }
        return rows
    }

    /// The refusal of a table over the cell cap.
    private func tooManyCells(_ query: CompiledQuery) -> StoreError {
        .tooManyCells(
            "vetted query \(query.queryID) returns more than \(maxCells) cells (the limit); narrow it with its parameters or ask an operator to raise the limit")
    }

    /// Decodes one row per the compiled column types; a column of another type is a layout mismatch.
    private static func values(of row: PostgresRow, _ columns: [ResultColumn]) throws(QueryError) -> [ResultValue] {
        let cells = row.makeRandomAccess()
        guard cells.count == columns.count else {
            throw .unexpectedResult("a result row has \(cells.count) columns, expected \(columns.count)")
        }
        var values: [ResultValue] = []
        values.reserveCapacity(columns.count)
        for (i, column) in columns.enumerated() {
            do {
                switch column.type {
                case .integer: values.append(try cells[i].decode(Int?.self).map(ResultValue.integer) ?? .null)
                case .double: values.append(try cells[i].decode(Double?.self).map(ResultValue.double) ?? .null)
                case .text: values.append(try cells[i].decode(String?.self).map(ResultValue.text) ?? .null)
                case .doubleArray: values.append(try cells[i].decode([Double]?.self).map(ResultValue.doubleArray) ?? .null)
                }
            } catch {
                throw .unexpectedResult("column \(column.name) does not decode as \(column.type.rawValue)")
            }
        }
        return values
    }
}

extension CompiledQuery {
    /// The statement's parameters, bound as ``PostgresBindings/append(_:)`` types them.
    fileprivate var bindings: PostgresBindings {
        var result = PostgresBindings(capacity: binds.count)
        for value in binds { result.append(value) }
        return result
    }
}

extension PostgresBindings {
    /// Appends a compiled bind as the type its placeholder casts from: dates as `YYYY-MM-DD` text.
    fileprivate mutating func append(_ value: QueryBind) {
        switch value {
        case .date(let day): append(day.description)
        case .text(let text): append(text)
        case .textArray(let texts): append(texts)
        case .integer(let n): append(n)
        case .boolean(let flag): append(flag)
        }
    }
}
