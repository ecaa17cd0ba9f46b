import PostgresNIO
import SDECommon
import SDEDisclosure
import SDEQuery
import SDEService
import SDEIngest
import SDEStore
import Testing

/// The statistics cache of `serve`: a repeated query on unchanged data is answered without its statement, and any
/// change to the data (or the schema) is seen by the very next run.
@Suite struct StatisticsCacheTests {
    /// A runner with a cache over the ledger tests' data: Hartlepool and Middlesbrough, 30 requests each in 2024Q2.
    func withCachedRunner(_ body: (QueryRunner, DatabaseSession) async throws -> Void) async throws {
        try await withBroker(cache: StatisticsCache(capacity: 10_000)) { broker, db, _ in
            for la in [DifferencingLedgerTests.hartlepool, DifferencingLedgerTests.middlesbrough] {
                try await DifferencingLedgerTests.requests(db, la: la, day: "2024-05-15", count: 30)
            }
            try await body(broker.queries, db)
        }
    }

    static let hartlepoolTotal: [String?] = [DifferencingLedgerTests.northEast, DifferencingLedgerTests.hartlepool, nil]

    /// The second run does not touch the view (the reader role has lost it meanwhile, and the run still succeeds with
    /// the same table); new data is seen at once, and then the statement runs again (and fails without the grant).
    @Test func aRepeatOnUnchangedDataSkipsTheStatementAndNewDataIsSeenAtOnce() async throws {
        try await withCachedRunner { runner, db in
            let first = try await DifferencingLedgerTests.run(runner, to: "2024Q2")
            #expect(try DifferencingLedgerTests.isPerturbed(DifferencingLedgerTests.cells(first, Self.hartlepoolTotal)[0], around: 30))
            try await db.execute("REVOKE SELECT ON datasets.request_waits FROM sde_reader")
            let repeated = try await DifferencingLedgerTests.run(runner, to: "2024Q2")
            #expect(repeated.table == first.table)
            // A change to the linked data moves the data version on: the cached table is not used.
            try await DifferencingLedgerTests.requests(db, la: DifferencingLedgerTests.hartlepool, day: "2024-05-16", count: 15)
            await expectServiceError(.databaseUnavailable) { try await DifferencingLedgerTests.run(runner, to: "2024Q2") }
            try await db.execute("GRANT SELECT ON datasets.request_waits TO sde_reader")
            let after = try await DifferencingLedgerTests.run(runner, to: "2024Q2")
            #expect(try DifferencingLedgerTests.isPerturbed(DifferencingLedgerTests.cells(after, Self.hartlepoolTotal)[0], around: 45))
        }
    }

    /// A population recorded for the dataset after the earlier populations were cached (here by hand, as if by another
    /// vetted query: Hartlepool over a nested window, 3 persons fewer) is seen by the next repeat, which withholds the total for differencing.
    @Test func aCellRecordedMeanwhileIsSeenByTheNextRepeat() async throws {
        try await withCachedRunner { runner, db in
            // The first run records its cells. A statement that changes no row still moves the data version on, so the
            // second computes the same table again and caches the earlier cells, the first run's included.
            for change in ["", "UPDATE linked.person SET sex = sex WHERE false"] {
                if !change.isEmpty { try await db.execute(PostgresQuery(unsafeSQL: change)) }
                let run = try await DifferencingLedgerTests.run(runner, to: "2024Q2")
                #expect(try DifferencingLedgerTests.cells(run, Self.hartlepoolTotal)[0].status == .perturbed)
            }
            try await db.execute(
                """
                INSERT INTO broker.released_population (dataset, window_from, window_to, predicates, terms, persons, query_id, source, source_id)
                VALUES ('request_waits', '2024-04-01', '2024-05-31', \(DifferencingLedgerTests.hartlepoolPredicates)::jsonb,
                        ARRAY['request_waits|la_code', 'request_waits|la_code=E06000001', 'request_waits|region_code',
                              'request_waits|region_code=E12000001'], 27, 'waits-by-la-quarter', 'project', 'P2025-002')
                """)
            let repeated = try await DifferencingLedgerTests.run(runner, to: "2024Q2")
            #expect(try DifferencingLedgerTests.cells(repeated, Self.hartlepoolTotal)[0].rule == .differencing)
        }
    }

    /// Every statement that changes a linked table, whatever it changes (even no row), and every migration or view
    /// applied, moves the data version on; every linked table, including ones added later, carries the trigger.
    @Test func everyChangeToTheLinkedDataMovesTheDataVersionOn() async throws {
        try await TestPostgres.withDatabase { _, db in
            let tables = try await Self.strings(db, "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'linked'")
            #expect(tables.count >= 4)
            let triggered = try await Self.strings(
                db, "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'advance_data_version' AND tgrelid::regclass::text LIKE 'linked.%'")
            #expect(Set(triggered) == Set(tables))
            for table in tables {
                let firstColumn = """
                    SELECT attname::text FROM pg_attribute WHERE attrelid = '\(table)'::regclass AND attnum > 0 AND NOT attisdropped
                      AND attidentity = '' AND attgenerated = '' ORDER BY attnum LIMIT 1
                    """
                let column = try #require(try await Self.strings(db, firstColumn).first)
                for change in ["UPDATE \(table) SET \(column) = \(column) WHERE false", "DELETE FROM \(table) WHERE false", "TRUNCATE \(table) CASCADE"] {
                    let before = try await Self.version(db)
                    try await db.execute(PostgresQuery(unsafeSQL: change))
                    #expect(try await Self.version(db) > before, "\(change)")
                }
            }
            let before = try await Self.version(db)
            try await Migrator(sqlDirectory: TestPostgres.sqlDirectory).migrate(db)
            #expect(try await Self.version(db) == before, "nothing to apply, nothing changed")
            try await db.execute("UPDATE public.sde_schema_migration SET checksum = 'edited' WHERE name = 'views/care_events.sql'")
            let edited = try await Self.version(db)
            try await Migrator(sqlDirectory: TestPostgres.sqlDirectory).migrate(db)
            #expect(try await Self.version(db) > edited, "a re-applied view")
        }
    }

    /// Entries are bounded by cells (statistics, protected and earlier cells), least recently used first; a protection
    /// is reused only for the same version, rules and earlier cells.
    @Test func entriesAreBoundedAndProtectionsMatchTheirInputs() throws {
        // The cache's keys are compiled queries: one per local authority here.
        let cache = StatisticsCache(capacity: 6)
        func query(_ n: Int) throws -> CompiledQuery { try QueryExecutionTests.compiled("services-by-type-quarter", extra: ["la_code": "E0600000\(n)"]).0 }
        func statistics(_ persons: Int, version: Int64 = 1) -> VersionedStatistics {
            VersionedStatistics(
                statistics: StatisticsTable(
                    dimensions: [TableDimension(name: "quarter", partitionsPersons: true)], measures: [TableMeasure(name: "persons", kind: .persons)],
                    rows: [StatisticsRow(dimensions: ["2024Q2"], cells: [.persons(persons)]), StatisticsRow(dimensions: [nil], cells: [.persons(persons)])]),
                dataVersion: version)
        }
        for n in 1...3 { cache.store(statistics(n), of: try query(n)) }
        #expect(cache.size.cells == 6)
        _ = cache.statistics(of: try query(1))  // 2 is now the least recently used
        cache.store(statistics(4), of: try query(4))
        #expect(cache.statistics(of: try query(2)) == nil)
        #expect(cache.statistics(of: try query(1))?.statistics.statistics == statistics(1).statistics)
        #expect(cache.size == (entries: 3, cells: 6))
        cache.store(VersionedStatistics(statistics: StatisticsTable(dimensions: [], measures: [], rows: Array(repeating: statistics(1).statistics.rows[0], count: 7)), dataVersion: 1), of: try query(5))
        #expect(cache.statistics(of: try query(5)) == nil, "bigger than the whole cache")

        // Earlier cells are kept only with the statistics' data version.
        var prior = EarlierPopulations()
        prior.versions = ChangeVersions(data: 2, ledger: 7)
        cache.storeEarlierPopulations(prior, of: try query(1))
        #expect(cache.statistics(of: try query(1))?.prior == nil)
        prior.versions = ChangeVersions(data: 1, ledger: 7)
        cache.storeEarlierPopulations(prior, of: try query(1))
        #expect(cache.statistics(of: try query(1))?.prior == prior)

        let rules = DisclosureRules(threshold: 10, roundingBase: 5)
        let table = try DisclosureControl(rules: rules).protect(statistics(30).statistics)
        let window = CivilDate(year: 2024, month: 4, day: 1)!...CivilDate(year: 2024, month: 6, day: 30)!
        let cells: Set<CountedPopulation> = [CountedPopulation(Population(dataset: "care_events", window: window, predicates: []), persons: 1)]
        /// Whether the protection of query 1 at `version` under `rules` against `prior` was the kept one (else it is
        /// made, and kept while the statistics at `version` are).
        func reused(_ version: Int64, _ rules: DisclosureRules, _ prior: Set<CountedPopulation>) throws -> Bool {
            var made = false
            let protected = cache.protectedTable(of: try query(1), at: version, rules: rules, prior: prior) {
                made = true
                return table
            }
            #expect(protected == table)
            return !made
        }
        #expect(try !reused(1, rules, cells), "nothing kept yet")
        #expect(try reused(1, rules, cells))
        // The protected table counts too: query 3, now the least recently used, made room for it.
        #expect(cache.size == (entries: 2, cells: 6))
        #expect(cache.statistics(of: try query(3)) == nil)
        #expect(cache.statistics(of: try query(4)) != nil)
        #expect(try !reused(2, rules, cells), "another data version")
        #expect(try reused(1, rules, cells), "not kept for a version the statistics are not at")
        #expect(try !reused(1, DisclosureRules(threshold: 11, roundingBase: 5), cells), "other rules")
        #expect(try !reused(1, rules, []), "other earlier cells")
        #expect(try !reused(1, rules, cells))
        #expect(try reused(1, rules, cells))
        cache.store(statistics(1, version: 2), of: try query(1))
        #expect(try !reused(2, rules, cells), "new statistics drop the old protection")
    }

    static func version(_ db: DatabaseSession) async throws -> Int {
        try await db.scalar("SELECT version::int FROM broker.data_version")
    }

    static func strings(_ db: DatabaseSession, _ sql: String) async throws -> [String] {
        var values: [String] = []
        for try await value in try await db.query(PostgresQuery(unsafeSQL: sql)).decode(String.self) { values.append(value) }
        return values
    }
}
