import Foundation
import PostgresNIO
import SDECommon
import SDEDisclosure
import SDEService
@testable import SDEStore
import Testing

private typealias L = DifferencingLookupTests

/// The ledger's lookup against PostgreSQL: which recorded populations come back around a table's, and (on demand) how
/// long it takes for a 1,600-row table against a ledger of about 100,000 populations.
@Suite struct DifferencingLookupTests {
    static func day(_ year: Int, _ month: Int, _ day: Int) -> CivilDate { CivilDate(year: year, month: month, day: day)! }
    static let half = day(2024, 4, 1)...day(2024, 9, 30), q2 = day(2024, 4, 1)...day(2024, 6, 30)
    static let hartlepool = PopulationPredicate("la_code", in: ["E06000001"]), northEast = PopulationPredicate("region_code", in: ["E12000001"])
    static let assessed = PopulationPredicate("assessed", in: ["true"])

    static func population(_ window: ClosedRange<CivilDate>, _ predicates: [PopulationPredicate]) -> Population {
        Population(dataset: "request_waits", window: window, predicates: predicates)
    }

    /// Recorded: `recorded` with 40 persons. Read around Hartlepool's cell over the half year (42 persons, k = 10).
    @Test(arguments: [
        (L.population(L.q2, [L.hartlepool, L.northEast]), true),  // nested in the cell (a quarter)
        (L.population(L.half, [L.hartlepool, L.northEast, L.assessed]), true),  // nested (another vetted query's flag)
        (L.population(L.half, [L.northEast]), true),  // containing it (the region)
        (L.population(L.half, []), true),  // containing it (everyone)
        (L.population(L.day(2024, 1, 1)...L.day(2024, 12, 31), [PopulationPredicate("la_code", in: ["E06000001", "E06000002"])]), true),
        (L.population(L.half, [PopulationPredicate("la_code", in: ["E06000002"]), L.northEast]), false),  // disjoint
        (L.population(L.day(2024, 5, 1)...L.day(2024, 10, 31), [L.hartlepool, L.northEast]), false),  // overlapping windows only
        (Population(dataset: "care_events", window: L.half, predicates: [L.hartlepool, L.northEast]), false),  // another view
    ])
    func earlierPopulationsAreTheNestedOnes(recorded: Population, found: Bool) async throws {
        try await TestPostgres.withDatabase { _, db in
            try await DifferencingLedger.record([CountedPopulation(recorded, persons: 40)], queryID: "q", source: .project("P2025-002"), on: db)
            let cell = CountedPopulation(Self.population(Self.half, [Self.hartlepool, Self.northEast]), persons: 42)
            let earlier = try await DifferencingLedger.earlierPopulations(around: [cell], dataset: "request_waits", threshold: 10, on: db)
            #expect(earlier.populations == (found ? [CountedPopulation(recorded, persons: 40)] : []))
            // Counts k or more apart are not read at all.
            let far = try await DifferencingLedger.earlierPopulations(
                around: [CountedPopulation(cell.population, persons: 50)], dataset: "request_waits", threshold: 10, on: db)
            #expect(far.populations.isEmpty)
            #expect(earlier.versions.ledger == (recorded.dataset == "request_waits" ? 1 : 0))
        }
    }

    /// A population recorded again with the same count is kept once, and is found again by its own read.
    @Test func aPopulationIsRecordedOnceAndFoundByItself() async throws {
        try await TestPostgres.withDatabase { _, db in
            let cell = CountedPopulation(Self.population(Self.half, [Self.hartlepool, Self.northEast, Self.assessed]), persons: 42)
            for source in [LedgerSource.project("P2025-002"), .release("cqc")] {
                try await DifferencingLedger.record([cell, cell], queryID: "q", source: source, on: db)
            }
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") == 1)
            let earlier = try await DifferencingLedger.earlierPopulations(around: [cell], dataset: "request_waits", threshold: 10, on: db)
            #expect(earlier.alreadyRecord([cell]))
            #expect(!earlier.alreadyRecord([CountedPopulation(cell.population, persons: 43)]))
        }
    }

    /// On demand (`SDE_BENCH=1`): a ledger of about 100,000 populations over 150 local authorities, 12 quarters and 55
    /// variants of predicates, and the read around a 1,610-row table by local authority, region and quarter.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SDE_BENCH"] == "1"))
    func lookupTimeForALargeTable() async throws {
        try await TestPostgres.withDatabase { _, db in
            try await db.execute(
                """
                INSERT INTO broker.released_population (dataset, window_from, window_to, predicates, terms, persons, query_id, source, source_id)
                SELECT 'request_waits', q.first, (q.first + interval '3 months' - interval '1 day')::date,
                       jsonb_build_object('la_code', jsonb_build_array(la.code), 'region_code', jsonb_build_array(la.region))
                         || CASE WHEN v.n % 11 < 10 THEN jsonb_build_object('support_reason', jsonb_build_array('r' || (v.n % 11))) ELSE '{}' END
                         || CASE WHEN v.n >= 11 THEN jsonb_build_object('age_band', jsonb_build_array('a' || (v.n / 11))) ELSE '{}' END,
                       ARRAY['request_waits|la_code', 'request_waits|la_code=' || la.code, 'request_waits|region_code',
                             'request_waits|region_code=' || la.region]
                         || CASE WHEN v.n % 11 < 10 THEN ARRAY['request_waits|support_reason', 'request_waits|support_reason=r' || (v.n % 11)] ELSE '{}' END
                         || CASE WHEN v.n >= 11 THEN ARRAY['request_waits|age_band', 'request_waits|age_band=a' || (v.n / 11)] ELSE '{}' END,
                       10 + (hashtext(la.code || q.first || v.n) & 1023), 'bench', 'project', 'P-bench'
                FROM (SELECT 'E06' || lpad(i::text, 6, '0') AS code, 'E1200000' || (i % 9 + 1) AS region FROM generate_series(1, 150) i) la
                CROSS JOIN (SELECT (DATE '2022-04-01' + make_interval(months => 3 * i))::date AS first FROM generate_series(0, 11) i) q
                CROSS JOIN generate_series(0, 54) v(n)
                """)
            try await db.execute("ANALYZE broker.released_population")
            let count = try await db.scalar("SELECT count(*)::int FROM broker.released_population")
            let table = Self.largeTable()
            var times: [Duration] = []
            var found = 0
            for _ in 0..<7 {
                let start = ContinuousClock.now
                found = try await DifferencingLedger.earlierPopulations(around: table, dataset: "request_waits", threshold: 10, on: db).populations.count
                times.append(ContinuousClock.now - start)
            }
            let statement = EarlierPopulationsStatement(dataset: "request_waits", probes: Probes(table, reach: 9))
            var plan: [String] = []
            let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS) " + EarlierPopulationsStatement.sql, binds: try statement.makeBindings())
            for try await line in try await db.query(explain).decode(String.self) { plan.append(line) }
            print("ledger of \(count) populations; table of \(table.count) populations; \(found) read;"
                + " probes \(statement.probes.nested.count) nested + \(statement.probes.containers.count) containers;"
                + " median \(times.sorted()[times.count / 2]) (round trip)")
            print(plan.joined(separator: "\n"))
        }
    }

    /// 150 local authorities in 9 regions, with their regions and England, by 2022Q2-2024Q1 quarters and the window.
    static func largeTable() -> [CountedPopulation] {
        let window = day(2022, 4, 1)...day(2024, 3, 31)
        var quarters: [ClosedRange<CivilDate>] = [window]
        var quarter = Quarter(year: 2022, number: 2)!
        while quarter.firstDay < window.upperBound {
            quarters.append(quarter.firstDay...quarter.lastDay)
            quarter = quarter.next
        }
        var areas: [[PopulationPredicate]] = [[]]
        for r in 1...9 { areas.append([PopulationPredicate("region_code", in: ["E1200000\(r)"])]) }
        for i in 1...150 {
            let code = "E06" + String(repeating: "0", count: 6 - String(i).count) + String(i)
            areas.append([PopulationPredicate("la_code", in: [code]), PopulationPredicate("region_code", in: ["E1200000\(i % 9 + 1)"])])
        }
        var result: [CountedPopulation] = []
        for (a, area) in areas.enumerated() {
            for (q, window) in quarters.enumerated() {
                result.append(CountedPopulation(population(window, area), persons: 10 + (a * 31 + q * 7) % 1000))
            }
        }
        return result
    }
}
