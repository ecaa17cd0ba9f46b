import PostgresNIO
public import SDECommon
public import SDEDisclosure

/// What released a set of cells: a researcher's run under a project, or a regulator release.
public enum LedgerSource: Sendable, Hashable {
    /// A vetted query run under this project.
    case project(String)
    /// A published regulator release with this id.
    case release(String)

    var kind: String {
        switch self {
        case .project: "project"
        case .release: "release"
        }
    }

    var id: String {
        switch self {
        case .project(let id), .release(let id): id
        }
    }
}

/// One run of a vetted query as the ledger keys it: the query, its date window, and its other parameters.
public struct LedgerRun: Sendable, Hashable {
    /// The vetted query's id.
    public let queryID: String
    /// The first and last day of the run's period (whole quarters).
    public let window: ClosedRange<CivilDate>
    /// The run's non-window parameters (enumeration filters), recorded with the cells for review.
    public let parameters: [String: String]

    /// A run of `queryID` over `window` with `parameters` (quarter bounds excluded).
    public init(queryID: String, window: ClosedRange<CivilDate>, parameters: [String: String]) {
        self.queryID = queryID
        self.window = window
        self.parameters = parameters
    }
}

/// The change counters of migration 0011 as one snapshot saw them: `broker.data_version` (any change to the linked
/// data or the schema) and the query's `broker.ledger_version` (any cell recorded for it; 0 before the first).
public struct ChangeVersions: Sendable, Hashable {
    /// The data version.
    public let data: Int64
    /// The query's ledger version.
    public let ledger: Int64

    /// Versions as read.
    public init(data: Int64, ledger: Int64) {
        self.data = data
        self.ledger = ledger
    }
}

/// What the ledger holds for the rows of a table about to be released: the cells to guard against, and which of them
/// this very run (same window and filters) released before with the same true counts.
public struct PriorCells: Sendable, Hashable {
    /// The cells of the same query over nested windows and nested filters, this run's own included.
    public var cells: Set<PriorCell> = []
    /// The cells this run's key (window and filters) already released, with their true counts then.
    public var ofThisRun: Set<PriorCell> = []
    /// The data and ledger versions in the snapshot the cells were read in.
    public var versions = ChangeVersions(data: 0, ledger: 0)

    /// No cells, at versions 0 (before the ledger is read).
    public init() {}

    /// Whether every cell of `released` is already in the ledger under this run's key with the same true counts: such
    /// a release tells nobody anything new, and recording it would add nothing (the ledger keeps each cell once).
    public func alreadyRecord(_ released: [PriorCell]) -> Bool { released.allSatisfy(ofThisRun.contains) }
}

/// The release ledger, `broker.released_cell`: every cell a vetted query released, with its true person counts, for
/// the differencing guard (DESIGN section 7). Shared by all projects and releases: colluding users are the threat.
///
/// Prior cells are those of the same vetted query over a nested population: a window nested in, containing, or equal
/// to this run's (data can change between runs of one window, so equal windows count too), and filters (non-window
/// parameters such as a region or local authority) that are a subset or a superset of this run's. An unfiltered run
/// contains every filtered one, exactly as a longer window contains a shorter one, so their difference can single out
/// the few persons outside the filter. Two disjoint filters (one local authority, then another) describe disjoint
/// populations whose difference singles out nobody, so they are not compared.
///
/// A cell already in the ledger with the same run key and the same true counts is not recorded again, so repeating a
/// query does not grow the ledger.
///
/// Reads and writes happen inside ``withLock(_:on:_:)``: one transaction as `sde_broker` (INSERT and SELECT only;
/// triggers refuse UPDATE, DELETE and TRUNCATE) holding a transaction-level advisory lock on the query id, so two
/// concurrent runs of one query cannot both pass the guard against the ledger as it was before either.
///
/// ```swift
/// let protected = try await ReleaseLedger.withLock(run.queryID, on: db) {
///     let prior = try await ReleaseLedger.priorCells(of: run, in: table, on: db)
///     let protected = try DisclosureControl(rules: rules).protect(table, priorCells: prior)
///     try await ReleaseLedger.record(protected, of: table, run: run, source: .project("P2025-002"), on: db)
///     return protected
/// }
/// ```
public enum ReleaseLedger {
    /// The advisory-lock namespace of ledger updates (keyed by query id).
    public static let lockNamespace = "sde.release_ledger"
    /// How long a run waits for another run of the same query to finish with the ledger before it fails.
    public static let lockTimeout = "10s"

    /// Runs `body` in one transaction as `sde_broker` holding the ledger lock of `queryID` (released at commit or
    /// rollback, whatever happens); ``priorCells(of:in:on:)`` and ``record(_:of:run:source:on:)`` run inside it.
    public static func withLock<Result: Sendable>(_ queryID: String, on db: Database, _ body: () async throws -> Result) async throws -> Result {
        let what = "the release ledger of \(queryID)"
        return try await db.transaction(what) {
            // One round trip: the broker's role, a bounded wait, and the lock (released at commit or rollback). The
            // commit need not wait for its WAL flush: the audit event committed right after it (same server, later in
            // the WAL) flushes it before anything is released.
            try await db.execute(
                """
                SELECT set_config('role', 'sde_broker', true), set_config('lock_timeout', \(lockTimeout), true),
                       set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock(hashtext(\(lockNamespace)), hashtext(\(queryID)))
                """, "lock \(what)")
            return try await body()
        }
    }

    /// The cells of `run`'s query released earlier over nested or containing windows, for rows of `table` only.
    public static func priorCells(of run: LedgerRun, in table: StatisticsTable, on db: Database) async throws(StoreError) -> PriorCells {
        let keys = table.rows.map { dimensionsJSON($0.dimensions) }
        let from = run.window.lowerBound.description, to = run.window.upperBound.description
        let what = "read the release ledger of \(run.queryID)"
        let parameters = parametersJSON(run)
        do {
            let rows = try await db.query(
                PriorCellsStatement(queryID: run.queryID, from: from, to: to, parameters: parameters, dimensions: keys), what)
            var result = PriorCells(), versions = 0
            for try await (version, ledgerVersion, ordinal, measure, persons, numerator, sameRun) in rows {
                result.versions = ChangeVersions(data: version, ledger: ledgerVersion)
                versions += 1
                guard let ordinal, let measure, let persons else { continue }
                let cell = PriorCell(dimensions: table.rows[ordinal - 1].dimensions, measure: measure, persons: persons, numeratorPersons: numerator)
                result.cells.insert(cell)
                if sameRun == true { result.ofThisRun.insert(cell) }
            }
            // Without its one row the join above would read as an empty ledger: fail closed instead.
            guard versions > 0 else { throw StoreError.queryFailed("\(what) found no data version (broker.data_version is empty)") }
            return result
        } catch {
            throw db.failure(error, what)
        }
    }

    /// The data version and `queryID`'s ledger version now: one round trip that tells whether statistics and earlier
    /// cells read before are still current.
    public static func versions(of queryID: String, on db: Database) async throws(StoreError) -> ChangeVersions {
        let what = "read the change versions of \(queryID)"
        var versions: ChangeVersions?
        do {
            for try await (data, ledger) in try await db.query(VersionsStatement(key: queryID), what) {
                versions = ChangeVersions(data: data, ledger: ledger)
            }
        } catch {
            throw db.failure(error, what)
        }
        guard let versions else { throw StoreError.queryFailed("\(what) found no data version (broker.data_version is empty)") }
        return versions
    }

    /// The cells `protected` releases (released or rounded) with the true person counts of `table`, as the ledger
    /// records them.
    public static func releasedCells(_ protected: ProtectedTable, of table: StatisticsTable) -> [PriorCell] {
        var cells: [PriorCell] = []
        for (row, statistics) in zip(protected.rows, table.rows) {
            for (m, cell) in row.cells.enumerated() where cell.status != .suppressed {
                cells.append(
                    PriorCell(
                        dimensions: row.dimensions, measure: table.measures[m].name, persons: statistics.cells[m].persons,
                        numeratorPersons: statistics.cells[m].numeratorPersons))
            }
        }
        return cells
    }

    /// Records the cells `protected` released (released or rounded; suppressed cells revealed nothing) with the true
    /// person counts of `table`, the statistics it was computed from; a cell the ledger already holds with the same run key
    /// and counts is not added twice. Returns how many released cells the table had.
    @discardableResult
    public static func record(
        _ protected: ProtectedTable, of table: StatisticsTable, run: LedgerRun, source: LedgerSource, on db: Database
    ) async throws(StoreError) -> Int {
        var dimensions: [String] = [], measures: [String] = [], persons: [Int] = [], numerators: [Int] = []
        for cell in releasedCells(protected, of: table) {
            dimensions.append(dimensionsJSON(cell.dimensions))
            measures.append(cell.measure)
            persons.append(cell.persons)
            numerators.append(cell.numeratorPersons ?? -1)
        }
        guard !measures.isEmpty else { return 0 }
        let parameters = parametersJSON(run)
        let from = run.window.lowerBound.description, to = run.window.upperBound.description
        let what = "record released cells of \(run.queryID) in the release ledger"
        do {
            try await db.execute(
                """
                INSERT INTO broker.released_cell
                    (query_id, window_from, window_to, parameters, dimensions, measure, persons, numerator_persons, source, source_id)
                SELECT \(run.queryID), \(from)::date, \(to)::date, \(parameters)::jsonb, u.dimensions::jsonb, u.measure, u.persons,
                       NULLIF(u.numerator, -1), \(source.kind), \(source.id)
                FROM unnest(\(dimensions)::text[], \(measures)::text[], \(persons)::bigint[], \(numerators)::bigint[])
                    AS u(dimensions, measure, persons, numerator)
                ON CONFLICT DO NOTHING
                """, what)
        } catch {
            throw db.failure(error, what)
        }
        return measures.count
    }

    /// The run's filters as a JSON object, the ledger's key of a population within a window.
    static func parametersJSON(_ run: LedgerRun) -> String {
        JSONValue.object(run.parameters.mapValues(JSONValue.string)).canonicalString
    }

    /// A row's dimension values as a JSON array (null for a total), the ledger's key of a cell.
    static func dimensionsJSON(_ values: [String?]) -> String {
        JSONValue.array(values.map { $0.map(JSONValue.string) ?? .null }).canonicalString
    }
}

/// The ledger read of ``ReleaseLedger/priorCells(of:in:on:)``, prepared once per connection (it runs on every query
/// request). The change versions come in the same snapshot: one row with nulls when no cell matches.
struct PriorCellsStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT v.version, coalesce(l.version, 0), p.ord, p.measure, p.persons, p.numerator_persons, p.same_run
        FROM broker.data_version v
        LEFT JOIN broker.ledger_version l ON l.query_id = $1
        LEFT JOIN LATERAL (
            SELECT DISTINCT d.ord, c.measure, c.persons, c.numerator_persons,
                   c.window_from = $2::date AND c.window_to = $3::date AND c.parameters = $4::jsonb AS same_run
            FROM broker.released_cell c
            JOIN unnest($5::text[]::jsonb[]) WITH ORDINALITY AS d(dimensions, ord) ON c.dimensions = d.dimensions
            WHERE c.query_id = $1
              AND ((c.window_from <= $2::date AND c.window_to >= $3::date) OR (c.window_from >= $2::date AND c.window_to <= $3::date))
              AND (c.parameters <@ $4::jsonb OR c.parameters @> $4::jsonb)
        ) p ON true
        """
    typealias Row = (Int64, Int64, Int?, String?, Int?, Int?, Bool?)

    let queryID: String, from: String, to: String, parameters: String, dimensions: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(queryID)
        bindings.append(from)
        bindings.append(to)
        bindings.append(parameters)
        bindings.append(dimensions)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The change versions of ``ReleaseLedger/versions(of:on:)``, prepared once per connection.
struct VersionsStatement: TextKeyStatement {
    static let sql = """
        SELECT v.version, coalesce((SELECT l.version FROM broker.ledger_version l WHERE l.query_id = $1), 0) FROM broker.data_version v
        """
    typealias Row = (Int64, Int64)

    /// The query id.
    let key: String

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

extension Database {
    /// Runs `body` holding a session-level PostgreSQL advisory lock on (`namespace`, `key`), waiting for it if another
    /// session holds it. The lock is released on every path; if releasing fails, the connection is closed, which
    /// releases it too (so a pooled connection never goes back to its pool still holding the lock).
    public func withAdvisoryLock<Result: Sendable>(
        _ namespace: String, _ key: String, _ body: () async throws -> Result
    ) async throws -> Result {
        try await execute("SELECT pg_advisory_lock(hashtext(\(namespace)), hashtext(\(key)))", "lock \(namespace) for \(key)")
        let result: Result
        do {
            result = try await body()
        } catch {
            await unlock(namespace, key)
            throw error
        }
        await unlock(namespace, key)
        return result
    }

    private func unlock(_ namespace: String, _ key: String) async {
        do {
            try await execute("SELECT pg_advisory_unlock(hashtext(\(namespace)), hashtext(\(key)))", "unlock \(namespace) for \(key)")
        } catch {
            logger.warning("advisory unlock failed; closing the connection", metadata: ["sde.lock.namespace": "\(namespace)"])
            try? await connection.close()
        }
    }
}
