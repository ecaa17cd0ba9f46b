public import SDEService
import Foundation
import PostgresNIO
import SDECommon
public import SDEDisclosure

/// The differencing ledger, `broker.released_population` (migration 0013): every population a cell released, with its
/// true person count, for the differencing guard (DESIGN section 7). Shared by all vetted queries, projects and
/// releases: colluding users are the threat, and two vetted queries over one view can count the same people.
///
/// A population is found again by its index terms (``Population/terms``): the populations nested in one of the table's
/// have all of its terms (one GIN probe per term set and count bucket), and those containing it have one of its
/// ``Population/containerTermSets`` (one B-tree probe per set); only counts within k - 1 of the table's are read. The
/// guard then decides nesting exactly. A population already recorded with the same true count is not recorded again.
///
/// Reads and writes happen inside ``withLock(_:on:_:)``: one transaction as `sde_broker` (INSERT and SELECT only;
/// triggers refuse UPDATE, DELETE and TRUNCATE) holding a transaction-level advisory lock on the dataset, so two
/// concurrent runs over one dataset cannot both pass the guard against the ledger as it was before either.
///
/// ```swift
/// let protected = try await DifferencingLedger.withLock(frame.dataset, on: db) {
///     let earlier = try await DifferencingLedger.earlierPopulations(around: input.counted(table), dataset: frame.dataset, threshold: 10, on: db)
///     let protected = try DisclosureControl(rules: rules).protect(table, differencing: DifferencingInput(cells: cells, earlier: earlier.populations))
///     try await DifferencingLedger.record(input.released(protected, of: table), queryID: query, source: .project("P2025-002"), on: db)
///     return protected
/// }
/// ```
public enum DifferencingLedger {
    /// The advisory-lock namespace of ledger updates (keyed by dataset).
    public static let lockNamespace = "sde.differencing_ledger"
    /// How long a run waits for other runs over the same dataset to finish with the ledger before it fails: as long as
    /// its own statement may run (the executor's default statement timeout). Each holds the lock only for its ledger
    /// read, disclosure control and ledger write, but on a loaded machine eight of them queued take more than 10 s.
    public static let lockTimeout = "30s"
    /// The width of the count buckets of `search_terms` (migration 0013).
    static let bucketWidth = 16
    /// The separator of terms within one probe (a control character no term contains).
    static let separator = "\u{1F}"

    /// Runs `body` in one transaction as `sde_broker` holding the ledger lock of `dataset` (released at commit or
    /// rollback, whatever happens); ``earlierPopulations(around:dataset:threshold:on:)`` and
    /// ``record(_:queryID:source:on:)`` run inside it.
    public static func withLock<Result: Sendable>(_ dataset: String, on db: DatabaseSession, _ body: () async throws -> Result) async throws -> Result {
        let what = "the differencing ledger of \(dataset)"
        return try await db.transaction(what) {
            // One round trip: the broker's role, a bounded wait, and the lock (released at commit or rollback). The
            // commit need not wait for its WAL flush: the audit event committed right after it (same server, later in
            // the WAL) flushes it before anything is released.
            try await db.execute(
                """
                SELECT set_config('role', 'sde_broker', true), set_config('lock_timeout', \(lockTimeout), true),
                       set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock(hashtext(\(lockNamespace)), hashtext(\(dataset)))
                """, "lock \(what)")
            return try await body()
        }
    }

    /// The populations of `dataset` released earlier that may contain one of `populations` or be nested in one, with a
    /// true count within `threshold - 1` of its own (equal counts included), and the change versions.
    public static func earlierPopulations(
        around populations: [CountedPopulation], dataset: String, threshold: Int, on db: DatabaseSession
    ) async throws(StoreError) -> EarlierPopulations {
        let what = "read the differencing ledger of \(dataset)"
        let probes = Probes(populations, reach: max(threshold, 1) - 1)
        do {
            var result = EarlierPopulations(), versions = 0
            result.threshold = threshold
            // Many populations share their predicates (the same cell over other windows or counts): decode each once.
            var decoded: [String: [PopulationPredicate]] = [:]
            let decoder = JSONDecoder()
            // An unnamed statement, planned for its parameters on every run: as a prepared statement PostgreSQL
            // switched to a generic plan after five runs on a connection, which ANDs every GIN probe with a range scan
            // of released_population_once (about 0.3 ms per probe: 290 ms instead of about 20 ms at 1,000,000 persons).
            let statement = EarlierPopulationsStatement(dataset: dataset, probes: probes)
            let rows = try await db.query(PostgresQuery(unsafeSQL: EarlierPopulationsStatement.sql, binds: try statement.makeBindings()), what)
            for try await (version, ledgerVersion, from, to, predicates, persons) in rows.decode(EarlierPopulationsStatement.Row.self) {
                result.versions = ChangeVersions(data: version, ledger: ledgerVersion)
                versions += 1
                guard let from, let to, let predicates, let persons else { continue }
                guard let first = CivilDate(parsing: from), let last = CivilDate(parsing: to), first <= last else {
                    throw StoreError.queryFailed("\(what): a population has no valid window")
                }
                let parsed = try decoded[predicates] ?? decode(predicates, with: decoder, what)
                decoded[predicates] = parsed
                let population = Population(dataset: dataset, window: first...last, predicates: parsed)
                result.populations.insert(CountedPopulation(population, persons: persons))
            }
            // Without its one row the join would read as an empty ledger: fail closed instead.
            guard versions > 0 else { throw StoreError.queryFailed("\(what) found no data version (broker.data_version is empty)") }
            return result
        } catch {
            throw db.failure(error, what)
        }
    }

    /// The data version and `dataset`'s ledger version now: one round trip that tells whether statistics and earlier
    /// populations read before are still current.
    public static func versions(of dataset: String, on db: DatabaseSession) async throws(StoreError) -> ChangeVersions {
        let what = "read the change versions of \(dataset)"
        var versions: ChangeVersions?
        do {
            for try await (data, ledger) in try await db.query(VersionsStatement(key: dataset), what) {
                versions = ChangeVersions(data: data, ledger: ledger)
            }
        } catch {
            throw db.failure(error, what)
        }
        guard let versions else { throw StoreError.queryFailed("\(what) found no data version (broker.data_version is empty)") }
        return versions
    }

    /// Records `populations` (the released cells' populations with their true counts) as released by `queryID` under
    /// `source`; one already in the ledger with the same count is not added twice. Returns how many were given.
    @discardableResult
    public static func record(
        _ populations: [CountedPopulation], queryID: String, source: LedgerSource, on db: DatabaseSession
    ) async throws(StoreError) -> Int {
        guard let dataset = populations.first?.population.dataset else { return 0 }
        var froms: [String] = [], tos: [String] = [], predicates: [String] = [], terms: [String] = [], persons: [Int] = []
        for counted in Set(populations) {
            let population = counted.population
            guard population.dataset == dataset else { throw StoreError.queryFailed("populations of one table span two datasets") }
            froms.append(population.window.lowerBound.description)
            tos.append(population.window.upperBound.description)
            predicates.append(predicatesJSON(population))
            terms.append(population.terms.joined(separator: separator))
            persons.append(counted.persons)
        }
        let what = "record released populations of \(queryID) in the differencing ledger"
        do {
            try await db.execute(
                """
                INSERT INTO broker.released_population (dataset, window_from, window_to, predicates, terms, persons, query_id, source, source_id)
                SELECT \(dataset), u.window_from::date, u.window_to::date, u.predicates::jsonb, string_to_array(u.terms, chr(31)), u.persons,
                       \(queryID), \(source.kind), \(source.id)
                FROM unnest(\(froms)::text[], \(tos)::text[], \(predicates)::text[], \(terms)::text[], \(persons)::bigint[])
                    AS u(window_from, window_to, predicates, terms, persons)
                ON CONFLICT DO NOTHING
                """, what)
        } catch {
            throw db.failure(error, what)
        }
        return populations.count
    }

    /// A population's predicates as the ledger's canonical JSON object.
    static func predicatesJSON(_ population: Population) -> String {
        JSONValue.object(
            Dictionary(uniqueKeysWithValues: population.predicates.map { ($0.column, $0.values.map { .array($0.map(JSONValue.string)) } ?? .null) })
        ).canonicalString
    }

    /// Predicates from the ledger's JSON object.
    private static func decode(_ json: String, with decoder: JSONDecoder, _ what: String) throws(StoreError) -> [PopulationPredicate] {
        guard let object = try? decoder.decode([String: [String]?].self, from: Data(json.utf8)) else {
            throw StoreError.queryFailed("\(what): a population's predicates are not a JSON object of value lists")
        }
        return object.map { column, values in values.map { PopulationPredicate(column, in: $0) } ?? PopulationPredicate(notNull: column) }
    }
}

/// The index probes of ``DifferencingLedger/earlierPopulations(around:dataset:threshold:on:)``, one per distinct key:
/// for nested populations, a table population's terms with one count bucket; for containers, one of its container
/// term sets. Each carries the range of counts and the window bounds a match must meet (the union over the table's
/// populations sharing the key: a prefilter, the guard decides exactly).
struct Probes {
    struct Bounds {
        var low: Int, high: Int, from: CivilDate, to: CivilDate
    }
    var nested: [String: Bounds] = [:]
    var containers: [String: Bounds] = [:]

    init(_ populations: [CountedPopulation], reach: Int) {
        var containerSets: [[String]: [[String]]] = [:]
        for counted in populations {
            let population = counted.population, low = max(0, counted.persons - reach), high = counted.persons + reach
            let terms = population.terms
            // A value's term implies its column's, which every population with that column has: the GIN probe is
            // far cheaper without such frequent terms, and the guard decides nesting exactly anyway.
            let values = terms.filter { $0.contains("=") }
            let probe = values.isEmpty ? terms : values
            for bucket in (low / DifferencingLedger.bucketWidth)...(high / DifferencingLedger.bucketWidth) {
                let key = (probe + ["\(population.dataset)|#\(bucket)"]).joined(separator: DifferencingLedger.separator)
                // Nested populations lie within this window.
                Self.widen(&nested[key], low, high, population.window.lowerBound, population.window.upperBound, nestedIn: true)
            }
            let sets = containerSets[terms] ?? population.containerTermSets
            containerSets[terms] = sets
            for set in sets {
                // Containers start on or before this window and end on or after it.
                Self.widen(
                    &containers[set.joined(separator: DifferencingLedger.separator)], low, high, population.window.lowerBound,
                    population.window.upperBound, nestedIn: false)
            }
        }
    }

    /// Widens `bounds` to admit a match for one more population: nested ones within [from, to] (the union's hull), or
    /// containers starting by the latest `from` and ending by the earliest `to`.
    private static func widen(_ bounds: inout Bounds?, _ low: Int, _ high: Int, _ from: CivilDate, _ to: CivilDate, nestedIn: Bool) {
        guard var b = bounds else {
            bounds = Bounds(low: low, high: high, from: from, to: to)
            return
        }
        b.low = min(b.low, low)
        b.high = max(b.high, high)
        b.from = nestedIn ? min(b.from, from) : max(b.from, from)
        b.to = nestedIn ? max(b.to, to) : min(b.to, to)
        bounds = b
    }
}

/// The ledger read of ``DifferencingLedger/earlierPopulations(around:dataset:threshold:on:)``, sent as an unnamed
/// statement (planned for its parameters each time: a cached generic plan was 15 times slower). The change versions come in the same snapshot: one row with nulls
/// when no population matches.
struct EarlierPopulationsStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT v.version, coalesce(l.version, 0), p.window_from::text, p.window_to::text, p.predicates::text, p.persons
        FROM broker.data_version v
        LEFT JOIN broker.ledger_version l ON l.dataset = $1
        LEFT JOIN LATERAL (
            SELECT c.id, c.window_from, c.window_to, c.predicates, c.persons
            FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[]) AS q(terms, low, high, first, last)
            JOIN broker.released_population c
              ON c.search_terms @> string_to_array(q.terms, chr(31)) AND c.dataset = $1
             AND c.persons BETWEEN q.low AND q.high AND c.window_from >= q.first::date AND c.window_to <= q.last::date
            UNION
            SELECT c.id, c.window_from, c.window_to, c.predicates, c.persons
            FROM unnest($7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::text[]) AS q(terms, low, high, first, last)
            JOIN broker.released_population c
              ON c.dataset = $1 AND c.terms = string_to_array(q.terms, chr(31))
             AND c.persons BETWEEN q.low AND q.high AND c.window_from <= q.first::date AND c.window_to >= q.last::date
        ) p ON true
        """
    typealias Row = (Int64, Int64, String?, String?, String?, Int?)

    let dataset: String, probes: Probes

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11)
        bindings.append(dataset)
        for probes in [probes.nested, probes.containers] {
            let keys = probes.keys.sorted()
            bindings.append(keys)
            bindings.append(keys.map { probes[$0]!.low })
            bindings.append(keys.map { probes[$0]!.high })
            bindings.append(keys.map { probes[$0]!.from.description })
            bindings.append(keys.map { probes[$0]!.to.description })
        }
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The change versions of ``DifferencingLedger/versions(of:on:)``, prepared once per connection.
struct VersionsStatement: TextKeyStatement {
    static let sql = """
        SELECT v.version, coalesce((SELECT l.version FROM broker.ledger_version l WHERE l.dataset = $1), 0) FROM broker.data_version v
        """
    typealias Row = (Int64, Int64)

    /// The dataset id.
    let key: String

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

extension DatabaseSession {
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
