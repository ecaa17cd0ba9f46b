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

/// The release ledger, `broker.released_cell`: every cell a vetted query released, with its true person counts, for
/// the differencing guard (DESIGN section 7). Shared by all projects and releases: colluding users are the threat.
///
/// Prior cells are those of the same vetted query whose window is nested in, contains, or equals this run's (data can
/// change between runs of one window, so equal windows count too). Non-window parameters (a region or local authority
/// filter) are **not** a reason to skip a prior cell: a filtered run describes a sub-population of the unfiltered one,
/// nested exactly as a shorter window is, so an unfiltered total next to a filtered one can single out the few persons
/// outside the filter. Comparing across them is conservative: cells of two disjoint filters that happen to differ by
/// fewer than k persons are suppressed although their difference describes no set of persons.
///
/// Reads and writes run as `sde_broker` (INSERT and SELECT only; triggers refuse UPDATE, DELETE and TRUNCATE). Callers
/// hold ``Database/withAdvisoryLock(_:_:_:)`` on ``lockNamespace`` and the query id from reading to recording, so two
/// concurrent runs of one query cannot both pass the guard against the ledger as it was before either.
///
/// ```swift
/// let protected = try await db.withAdvisoryLock(ReleaseLedger.lockNamespace, run.queryID) {
///     let prior = try await ReleaseLedger.priorCells(of: run, in: table, on: db)
///     let protected = try DisclosureControl(rules: rules).protect(table, priorCells: prior)
///     try await ReleaseLedger.record(protected, of: table, run: run, source: .project("P2025-002"), on: db)
///     return protected
/// }
/// ```
public enum ReleaseLedger {
    /// The advisory-lock namespace of ledger updates (keyed by query id).
    public static let lockNamespace = "sde.release_ledger"

    /// The cells of `run`'s query released earlier over nested or containing windows, for rows of `table` only.
    public static func priorCells(of run: LedgerRun, in table: StatisticsTable, on db: Database) async throws(StoreError) -> [PriorCell] {
        let keys = table.rows.map { dimensionsJSON($0.dimensions) }
        let from = run.window.lowerBound.description, to = run.window.upperBound.description
        let what = "read the release ledger of \(run.queryID)"
        do {
            return try await db.transaction(what) {
                try await db.execute("SET LOCAL ROLE sde_broker", "become sde_broker to \(what)")
                let rows = try await db.query(
                    """
                    SELECT DISTINCT d.ord, c.measure, c.persons, c.numerator_persons
                    FROM broker.released_cell c
                    JOIN unnest(\(keys)::text[]::jsonb[]) WITH ORDINALITY AS d(dimensions, ord) ON c.dimensions = d.dimensions
                    WHERE c.query_id = \(run.queryID)
                      AND ((c.window_from <= \(from)::date AND c.window_to >= \(to)::date)
                           OR (c.window_from >= \(from)::date AND c.window_to <= \(to)::date))
                    """, what)
                var cells: [PriorCell] = []
                for try await (ordinal, measure, persons, numerator) in rows.decode((Int, String, Int, Int?).self) {
                    cells.append(
                        PriorCell(dimensions: table.rows[ordinal - 1].dimensions, measure: measure, persons: persons, numeratorPersons: numerator))
                }
                return cells
            }
        } catch {
            throw db.failure(error, what)
        }
    }

    /// Records the cells `protected` released (released or rounded; suppressed cells revealed nothing) with the true
    /// person counts of `table`, the statistics it was computed from. Returns how many cells were recorded.
    @discardableResult
    public static func record(
        _ protected: ProtectedTable, of table: StatisticsTable, run: LedgerRun, source: LedgerSource, on db: Database
    ) async throws(StoreError) -> Int {
        var dimensions: [String] = [], measures: [String] = [], persons: [Int] = [], numerators: [Int] = []
        for (row, statistics) in zip(protected.rows, table.rows) {
            let key = dimensionsJSON(row.dimensions)
            for (m, cell) in row.cells.enumerated() where cell.status != .suppressed {
                dimensions.append(key)
                measures.append(table.measures[m].name)
                persons.append(statistics.cells[m].persons)
                numerators.append(statistics.cells[m].numeratorPersons ?? -1)
            }
        }
        guard !measures.isEmpty else { return 0 }
        let parameters = JSONValue.object(run.parameters.mapValues(JSONValue.string)).canonicalString
        let from = run.window.lowerBound.description, to = run.window.upperBound.description
        let what = "record released cells of \(run.queryID) in the release ledger"
        do {
            try await db.transaction(what) {
                try await db.execute("SET LOCAL ROLE sde_broker", "become sde_broker to \(what)")
                try await db.execute(
                    """
                    INSERT INTO broker.released_cell
                        (query_id, window_from, window_to, parameters, dimensions, measure, persons, numerator_persons, source, source_id)
                    SELECT \(run.queryID), \(from)::date, \(to)::date, \(parameters)::jsonb, u.dimensions::jsonb, u.measure, u.persons,
                           NULLIF(u.numerator, -1), \(source.kind), \(source.id)
                    FROM unnest(\(dimensions)::text[], \(measures)::text[], \(persons)::bigint[], \(numerators)::bigint[])
                        AS u(dimensions, measure, persons, numerator)
                    """, what)
            }
        } catch {
            throw db.failure(error, what)
        }
        return measures.count
    }

    /// A row's dimension values as a JSON array (null for a total), the ledger's key of a cell.
    static func dimensionsJSON(_ values: [String?]) -> String {
        JSONValue.array(values.map { $0.map(JSONValue.string) ?? .null }).canonicalString
    }
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
