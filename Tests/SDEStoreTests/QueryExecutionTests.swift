import Foundation
import PostgresNIO
import SDECommon
import SDEDisclosure
import SDEExtracts
import SDEPolicy
import SDEPolicyFiles
import SDEQuery
import SDEIngest
import SDEStore
import Testing

/// Compiled vetted queries run against ingested synthetic data, checked against independent hand-written SQL over the
/// base tables.
@Suite struct QueryExecutionTests {
    static let root = URL(fileURLWithPath: TestPostgres.sqlDirectory).deletingLastPathComponent().path
    static let today = CivilDate(year: 2026, month: 11, day: 26)!
    static let period = ["from": "2023Q2", "to": "2024Q4"]
    static let periodCondition = "BETWEEN DATE '2023-04-01' AND DATE '2024-12-31'"

    /// The local authority and region codes of `Sql/local_authorities.csv`.
    static func referenceCodes() throws -> ReferenceCodes {
        let authorities = try LocalAuthority.load(from: TestPostgres.sqlDirectory + "/local_authorities.csv")
        return ReferenceCodes(regionOfLocalAuthority: Dictionary(uniqueKeysWithValues: authorities.map { ($0.code, $0.regionCode) }))
    }

    /// The example policy set; with `datasets.yaml` edited or `extra` files added, re-signed under the test run's own root
    /// (``TestTrust``), as the IG team would sign the change.
    static func policy(editingDatasets edit: ((String) -> String)? = nil, extra: [String: String] = [:]) throws -> PolicySet {
        var files = try PolicyDirectory.files(at: root + "/Policies")
        if edit != nil || !extra.isEmpty {
            let added = extra.map { PolicySourceFile(path: $0.key, bytes: Array($0.value.utf8)) }
            files = try TestTrust.resign(files + added, edits: edit.map { [PolicySet.datasetsFile: $0] } ?? [:])
        }
        return try PolicySet.load(files, reference: try referenceCodes())
    }

    /// The example query `id` compiled for an allowed researcher over ``period`` (plus `extra` parameters).
    static func compiled(_ id: String, policy: PolicySet? = nil, extra: [String: String] = [:]) throws -> (CompiledQuery, AuthorizedQuery) {
        let project = [
            "requests-by-la-quarter": "P2025-002", "waits-by-la-quarter": "P2025-002", "waits-by-region-support-reason": "P2025-002",
            "home-care-cost-by-support-reason": "P2025-003", "services-by-type-quarter": "P2025-003",
            "discharge-reablement-by-la": "P2025-001", "discharge-destinations-by-age": "P2025-001",
        ][id]
        let user = project == "P2025-001" ? "r-priya-shah" : "r-amara-bello"
        let set = try policy ?? Self.policy()
        let action = AccessAction.runQuery(project: try #require(project), query: id, parameters: period.merging(extra) { $1 })
        let decision = set.decide(user: user, action: action, now: today)
        let run = try #require(decision.grant?.run, "\(decision.denial?.description ?? "")")
        return (try QueryCompiler.compile(run), run)
    }

    /// Rows of a hand-written statement whose columns are all cast to text.
    static func textRows(_ db: DatabaseSession, _ sql: String) async throws -> [[String?]] {
        var result: [[String?]] = []
        for try await row in try await db.query(PostgresQuery(unsafeSQL: sql)) {
            result.append(try row.makeRandomAccess().map { try $0.decode(String?.self) })
        }
        return result
    }

    /// The table's rows by their dimension values.
    static func byKey(_ table: StatisticsTable) -> [[String?]: [CellStatistic]] {
        Dictionary(uniqueKeysWithValues: table.rows.map { ($0.dimensions, $0.cells) })
    }

    /// Ingests synthetic extracts for `persons` people, then runs `body`.
    static func withData(persons: Int, seed: UInt64, _ body: (DatabaseSession) async throws -> Void) async throws {
        let scratch = try IngestTests.Scratch(persons: persons, seed: seed)
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { _, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            try await body(db)
        }
    }

    @Test func personsAndEventsMatchAPlainCountIncludingMarginsAndHierarchyTotals() async throws {
        try await Self.withData(persons: 3000, seed: 61) { db in
            let (compiled, run) = try Self.compiled("requests-by-la-quarter")
            let table = try await QueryExecutor().run(compiled, on: db)
            let rows = Self.byKey(table)
            #expect(rows.count == table.rows.count)
            let requests =
                "FROM linked.care_event e JOIN linked.local_authority la USING (la_code) "
                + "WHERE e.event_type = 'request' AND e.event_start \(Self.periodCondition)"
            let quarter = "to_char(e.event_start, 'YYYY\"Q\"Q')"
            let expected: [(String, ([String?]) -> [String?])] = [
                // Cells: region, LA, quarter.
                (
                    "SELECT la.region_code::text, e.la_code::text, \(quarter), count(DISTINCT e.person_id)::text, count(*)::text \(requests) GROUP BY 1, 2, 3",
                    { $0 }
                ),
                // Margin over quarters: each LA's total.
                (
                    "SELECT la.region_code::text, e.la_code::text, count(DISTINCT e.person_id)::text, count(*)::text \(requests) GROUP BY 1, 2",
                    { [$0[0], $0[1], nil] }
                ),
                // Hierarchy: each region's total by quarter, and overall.
                (
                    "SELECT la.region_code::text, \(quarter), count(DISTINCT e.person_id)::text, count(*)::text \(requests) GROUP BY 1, 2",
                    { [$0[0], nil, $0[1]] }
                ),
                ("SELECT la.region_code::text, count(DISTINCT e.person_id)::text, count(*)::text \(requests) GROUP BY 1", { [$0[0], nil, nil] }),
                // England by quarter, and the grand total.
                ("SELECT \(quarter), count(DISTINCT e.person_id)::text, count(*)::text \(requests) GROUP BY 1", { [nil, nil, $0[0]] }),
                ("SELECT count(DISTINCT e.person_id)::text, count(*)::text \(requests)", { _ in [nil, nil, nil] }),
            ]
            var checked = 0
            for (sql, key) in expected {
                for row in try await Self.textRows(db, sql) {
                    let dims = Array(row.dropLast(2))
                    let persons = Int(row[row.count - 2]!)!
                    let events = Int(row[row.count - 1]!)!
                    #expect(rows[key(dims)] == [.persons(persons), .events(count: events, persons: persons)], "\(key(dims))")
                    checked += 1
                }
            }
            // Every row with data was checked; the others are the complete table's catalogue rows, all zero.
            let empty = table.rows.filter { $0.cells == [.persons(0), .events(count: 0, persons: 0)] }
            #expect(checked + empty.count == table.rows.count, "every row of the table was checked, and no more")
            #expect(table.rows.last?.dimensions == [nil, nil, nil])
            #expect(table.dimensions.map(\.parent) == [nil, "region_code", nil])
            // A region total over its LAs is the sum of the LAs (LAs partition persons); over quarters it is not.
            let england = try #require(rows[[nil, nil, nil]]?.first?.persons)
            let regions = table.rows.filter { $0.dimensions[0] != nil && $0.dimensions[1] == nil && $0.dimensions[2] == nil }
            #expect(regions.count == 9)
            #expect(regions.reduce(0) { $0 + $1.cells[0].persons } == england)
            // The table is what disclosure control expects.
            _ = try DisclosureControl(rules: run.rules).protect(table)
        }
    }

    @Test func ratesMeansMediansAndSumsMatchPlainSQL() async throws {
        try await Self.withData(persons: 3000, seed: 62) { db in
            // Rates: the reablement numerator and denominator by region, from the base tables.
            let (reablement, _) = try Self.compiled("discharge-reablement-by-la")
            let rates = Self.byKey(try await QueryExecutor().run(reablement, on: db))
            let discharges = """
                FROM linked.hospital_spell h JOIN linked.person p USING (person_id) JOIN linked.local_authority la ON la.la_code = p.la_code
                WHERE h.discharge_date \(Self.periodCondition) AND h.discharge_destination = 'usual_residence'
                  AND extract(year FROM h.discharge_date) - p.birth_year >= 65
                """
            let started = """
                EXISTS (SELECT 1 FROM linked.care_event s WHERE s.person_id = h.person_id AND s.service_type = 'reablement'
                        AND s.event_start >= h.discharge_date AND s.event_start <= h.discharge_date + 7)
                """
            let byRegion = try await Self.textRows(
                db,
                "SELECT la.region_code::text, count(DISTINCT h.person_id)::text, count(DISTINCT h.person_id) FILTER (WHERE \(started))::text \(discharges) GROUP BY 1"
            )
            #expect(byRegion.count == 9)
            for row in byRegion {
                let cells = try #require(rates[[row[0], nil]])
                #expect(cells[0] == .persons(Int(row[1]!)!))
                #expect(cells[1] == .rate(numerator: Int(row[2]!)!, denominator: Int(row[1]!)!))
            }
            let englandRate = try #require(rates[[nil, nil]]?[1].numeratorPersons)
            #expect(englandRate > 0)

            // Means and medians: England by quarter, from the curated view with a plain GROUP BY.
            let (waits, _) = try Self.compiled("waits-by-la-quarter")
            let waitRows = Self.byKey(try await QueryExecutor().run(waits, on: db))
            let plain = try await Self.textRows(
                db,
                """
                SELECT quarter, avg(days_to_assessment)::float8::text, percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_assessment)::text,
                       count(DISTINCT person_id)::text
                FROM datasets.request_waits WHERE assessed AND period_date \(Self.periodCondition) GROUP BY quarter
                """)
            #expect(plain.count == 7)
            for row in plain {
                let cells = try #require(waitRows[[nil, row[0]]])
                let persons = Int(row[3]!)!
                guard case .mean(let mean, let meanPersons, _) = cells[1], case .median(let median, let medianPersons) = cells[2] else {
                    Issue.record("not a mean and a median")
                    continue
                }
                #expect(cells[0] == .persons(persons) && meanPersons == persons && medianPersons == persons)
                #expect(abs(mean - Double(row[1]!)!) < 1e-9 && median == Double(row[2]!)!)
            }

            // Sums: each person's total cost within a region, summed over support reasons (the margin), and the two largest.
            let (cost, run) = try Self.compiled("home-care-cost-by-support-reason")
            let costTable = try await QueryExecutor().run(cost, on: db)
            let costRows = Self.byKey(costTable)
            let perPerson = try await Self.textRows(
                db,
                """
                WITH pp AS (
                    SELECT la.region_code, e.person_id, sum(round(e.planned_hours * e.unit_cost, 2)) AS total
                    FROM linked.care_event e JOIN linked.local_authority la USING (la_code)
                    WHERE e.event_type = 'service' AND e.service_type = 'home_care' AND e.event_start \(Self.periodCondition)
                    GROUP BY 1, 2
                )
                SELECT region_code::text, sum(total)::text, count(*)::text, (array_agg(total ORDER BY total DESC))[1]::text,
                       (array_agg(total ORDER BY total DESC))[2]::text
                FROM pp GROUP BY 1
                """)
            #expect(perPerson.count == 9)
            for row in perPerson {
                let cells = try #require(costRows[[nil, row[0]]])
                guard case .sum(let m) = cells[1] else {
                    Issue.record("not a sum")
                    continue
                }
                #expect(abs(m.total - Double(row[1]!)!) < 1e-6)
                #expect(m.persons == Int(row[2]!)! && cells[0] == .persons(m.persons))
                #expect(m.largest.count == 2)
                #expect(abs(m.largest[0] - Double(row[3]!)!) < 1e-9 && abs(m.largest[1] - Double(row[4]!)!) < 1e-9)
            }
            _ = try DisclosureControl(rules: run.rules).protect(costTable)
        }
    }

    @Test func aSumMarginAddsUpEachPersonsContributionsAcrossTheCellsItTotals() async throws {
        // An (unsigned, so compiled directly) query summing home care costs by quarter: one person has services in
        // several quarters, so their contribution to the total over quarters is the sum of their quarterly ones.
        let yaml = """
            id: cost-by-quarter
            title: Home care cost by quarter
            description: Test query.
            dataset: care_events
            dimensions: [quarter]
            measures: [persons, total_weekly_cost]
            filters:
              - dimension: service_type
                values: [home_care]
            """
        let policy = try Self.policy(extra: ["queries/cost-by-quarter.yaml": yaml])
        let query = try #require(policy.queries["cost-by-quarter"])
        let dataset = try #require(policy.datasets["care_events"])
        let period = try #require(QuarterRange(from: Quarter(year: 2022, number: 2)!, to: Quarter(year: 2025, number: 1)!))
        let compiled = try QueryCompiler.compile(query, dataset: dataset, period: period, parameterFilters: [], rules: DisclosureRules(dominanceN: 3))
        try await Self.withData(persons: 3000, seed: 65) { db in
            let table = try await QueryExecutor().run(compiled, on: db)
            let service = "FROM linked.care_event e WHERE e.service_type = 'home_care'"
            let quarter = "to_char(e.event_start, 'YYYY\"Q\"Q')"
            let top = (1...3).map { "(array_agg(total ORDER BY total DESC))[\($0)]::text" }.joined(separator: ", ")
            var expected: [[String?]: [String?]] = [:]
            for (key, group) in [("quarter", "\(quarter) AS quarter, e.person_id"), ("NULL::text", "e.person_id")] {
                let sql = """
                    WITH pp AS (SELECT \(group), sum(round(e.planned_hours * e.unit_cost, 2)) AS total \(service) GROUP BY \(key == "quarter" ? "1, 2" : "1"))
                    SELECT \(key), count(*)::text, sum(total)::text, \(top) FROM pp GROUP BY 1
                    """
                for row in try await Self.textRows(db, sql) { expected[[row[0]]] = Array(row.dropFirst()) }
            }
            #expect(expected.count == 13 && table.rows.count == 13)
            var quarterLargest = 0.0
            for row in table.rows {
                let want = try #require(expected[row.dimensions])
                guard case .sum(let m) = row.cells[1] else {
                    Issue.record("not a sum")
                    continue
                }
                #expect(row.cells[0] == .persons(Int(want[0]!)!) && m.persons == Int(want[0]!)!)
                #expect(abs(m.total - Double(want[1]!)!) < 1e-6)
                #expect(m.largest.count == 3)
                for (got, expected) in zip(m.largest, want.dropFirst(2)) { #expect(abs(got - Double(expected!)!) < 1e-9) }
                if row.dimensions != [nil] { quarterLargest = max(quarterLargest, m.largest[0]) }
            }
            // The largest contribution to the total is more than any quarter's: taking the quarters' would understate it.
            let overall = try #require(table.rows.last)
            guard case .sum(let total) = overall.cells[1] else { return }
            #expect(overall.dimensions == [nil] && total.largest[0] > quarterLargest)
        }
    }

    @Test func queriesRunAsTheReaderRoleInAReadOnlyTransaction() async throws {
        try await Self.withData(persons: 300, seed: 63) { db in
            // The same view, but in schema linked, which sde_reader may not read.
            try await db.execute(unsafeSQL: "CREATE VIEW linked.care_events_copy AS SELECT * FROM datasets.care_events")
            let policy = try Self.policy { $0.replacingOccurrences(of: "view: datasets.care_events", with: "view: linked.care_events_copy") }
            let (sneaky, _) = try Self.compiled("services-by-type-quarter", policy: policy)
            #expect(sneaky.sql.contains("\"linked\".\"care_events_copy\""))
            let error = await #expect(throws: StoreError.self) { try await QueryExecutor().run(sneaky, on: db) }
            #expect(error?.message.contains("SQLSTATE 42501") == true)
            #expect(error?.message.contains("care_events_copy") == false)
            // Control: the connection's own role can read it, so the refusal came from the role switch.
            var binds = PostgresBindings()
            binds.append("2023-04-01")
            binds.append("2024-12-31")
            binds.append(["service"])
            var rows = 0
            for try await _ in try await db.query(PostgresQuery(unsafeSQL: sneaky.sql, binds: binds)) { rows += 1 }
            #expect(rows > 0)
            // The role and timeout were local to the transaction: the connection is as it was.
            let (services, _) = try Self.compiled("services-by-type-quarter")
            let table = try await QueryExecutor(statementTimeout: .seconds(5)).run(services, on: db)
            #expect(!table.rows.isEmpty)
            let session = try await Self.textRows(
                db, "SELECT current_user::text, current_setting('statement_timeout'), current_setting('transaction_read_only')")
            #expect(session.first?[0] != QueryExecutor.readerRole)
            #expect(session.first?[1] == "0" && session.first?[2] == "off")
        }
    }

    @Test func aStatementTimeoutAndTheCellCapAreEnforced() async throws {
        try await Self.withData(persons: 3000, seed: 64) { db in
            let (heavy, _) = try Self.compiled("waits-by-region-support-reason")
            let timeout = await #expect(throws: StoreError.self) {
                try await QueryExecutor(statementTimeout: .milliseconds(1)).run(heavy, on: db)
            }
            #expect(timeout?.message.contains("cancelled after the statement timeout of 1 ms") == true)
            // Generous limits: the same query runs.
            let table = try await QueryExecutor(statementTimeout: .seconds(30), maxCells: 100_000).run(heavy, on: db)
            let cells = table.rows.count * table.measures.count
            #expect(cells > 100)
            // One cell fewer than the result has is refused, and the connection is fine afterwards.
            let capped = await #expect(throws: StoreError.self) { try await QueryExecutor(maxCells: cells - 1).run(heavy, on: db) }
            #expect(capped?.message.contains("more than \(cells - 1) cells") == true)
            #expect(try await QueryExecutor(maxCells: cells).run(heavy, on: db) == table)
        }
    }
}
