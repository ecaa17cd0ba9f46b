import Foundation
import PostgresNIO
import SDEDisclosure
import SDEPolicy
import SDEQuery
import SDEService
import SDEStore
import Testing

/// Cell keys computed by the compiled statements, checked against plain SQL written independently here: for every row
/// (margins included) and every measure, the sum modulo 2^32 of the record keys (read from `linked.person`) of the
/// distinct persons the measure's count covers.
@Suite struct CellKeyTests {
    /// Per example query: its view and the rows its fixed filters keep.
    static let populations: [String: (view: String, filters: String)] = [
        "requests-by-la-quarter": ("datasets.request_waits", ""),
        "waits-by-la-quarter": ("datasets.request_waits", "AND assessed"),
        "waits-by-region-support-reason": ("datasets.request_waits", ""),
        "home-care-cost-by-support-reason": ("datasets.care_events", "AND event_type = 'service' AND service_type = 'home_care'"),
        "services-by-type-quarter": ("datasets.care_events", "AND event_type = 'service'"),
        "discharge-reablement-by-la": ("datasets.hospital_discharges", "AND discharge_destination = 'usual_residence'"),
        "discharge-destinations-by-age": ("datasets.hospital_discharges", ""),
    ]

    /// The persons each key of `measure` covers, as conditions on the view's rows: (key, numerator key).
    static func conditions(_ measure: Measure) -> (persons: String, numerator: String?) {
        switch measure.formula {
        case .persons, .events: ("true", nil)
        case .sum(let column), .mean(let column), .median(let column): ("\(column) IS NOT NULL", nil)
        case .rate(let numerator, let denominator): (denominator ?? "true", numerator + (denominator.map { " AND \($0)" } ?? ""))
        }
    }

    /// Cell key by row dimensions for the persons matching `condition`, one plain GROUP BY per grouping set.
    static func plainKeys(
        _ db: DatabaseSession, _ compiled: CompiledQuery, _ population: (view: String, filters: String), _ condition: String
    ) async throws -> [[String?]: UInt32] {
        let dimensions = compiled.dimensions.map(\.name)
        var result: [[String?]: UInt32] = [:]
        for set in compiled.groupingSets {
            let selected = set.isEmpty ? "" : set.map { "cell.\($0)" }.joined(separator: ", ") + ", "
            let inner = set.isEmpty ? "" : set.map { "v.\($0)" }.joined(separator: ", ") + ", "
            let sql = """
                SELECT \(selected)(sum(p.record_key) % 4294967296)::text
                FROM (SELECT DISTINCT \(inner)v.person_id FROM \(population.view) v
                      WHERE v.period_date \(QueryExecutionTests.periodCondition) \(population.filters)
                        AND \(dimensions.map { "v.\($0) IS NOT NULL" }.joined(separator: " AND ")) AND (\(condition))) cell
                JOIN linked.person p USING (person_id)
                \(set.isEmpty ? "" : "GROUP BY " + set.map { "cell.\($0)" }.joined(separator: ", "))
                """
            for row in try await QueryExecutionTests.textRows(db, sql) {
                let key = dimensions.map { d in set.firstIndex(of: d).flatMap { row[$0] } }
                result[key] = UInt32(try #require(row.last.flatMap { $0 }))
            }
        }
        return result
    }

    @Test func everyCellKeyIsTheSumOfItsDistinctPersonsRecordKeysModulo2To32() async throws {
        try await QueryExecutionTests.withData(persons: 2500, seed: 71) { db in
            let policy = try QueryExecutionTests.policy()
            var checked = 0
            var nonZero = 0
            for (id, population) in Self.populations.sorted(by: { $0.key < $1.key }) {
                let (compiled, run) = try QueryExecutionTests.compiled(id, policy: policy)
                let table = try await QueryExecutor().run(compiled, on: db)
                for (index, name) in compiled.measures.map(\.name).enumerated() {
                    let (persons, numerator) = Self.conditions(try #require(run.dataset.measure(named: name)))
                    let expected = try await Self.plainKeys(db, compiled, population, persons)
                    let expectedNumerator = try await numerator.asyncMap { try await Self.plainKeys(db, compiled, population, $0) }
                    for row in table.rows {
                        let key = row.key(index)
                        #expect(key.persons == expected[row.dimensions] ?? 0, "\(id) \(name) \(row.dimensions)")
                        #expect(key.numerator == expectedNumerator.map { $0[row.dimensions] ?? 0 } ?? 0, "\(id) \(name) \(row.dimensions)")
                        // A key is 0 exactly when nobody is counted (with overwhelming probability otherwise).
                        #expect((key.persons == 0) == (row.cells[index].persons == 0), "\(id) \(name) \(row.dimensions)")
                        checked += 1
                        if key.persons != 0 { nonZero += 1 }
                    }
                }
            }
            #expect(checked > 2000 && nonZero > checked / 2, "\(checked) keys checked, \(nonZero) non-zero")
        }
    }

    @Test func theSamePopulationGetsTheSameKeyThroughDifferentVettedQueriesAndMeasures() async throws {
        try await QueryExecutionTests.withData(persons: 2500, seed: 72) { db in
            let executor = QueryExecutor()
            let requests = try await executor.run(try QueryExecutionTests.compiled("requests-by-la-quarter").0, on: db)
            let waitsByRegion = try await executor.run(try QueryExecutionTests.compiled("waits-by-region-support-reason").0, on: db)
            let waitsByLA = try await executor.run(try QueryExecutionTests.compiled("waits-by-la-quarter").0, on: db)
            func row(_ table: StatisticsTable, _ dimensions: [String?]) throws -> StatisticsRow {
                try #require(table.rows.first { $0.dimensions == dimensions }, "\(dimensions)")
            }
            // People with a request in a region over the window: a region total of requests-by-la-quarter (persons and
            // requests' persons) and of waits-by-region-support-reason (persons, and assessed_rate's denominator).
            let regions: [String?] = requests.rows.filter { $0.dimensions[1] == nil && $0.dimensions[2] == nil }.map { $0.dimensions[0] }
            #expect(regions.count == 10)
            for region in regions {
                let a = try row(requests, [region, nil, nil])
                let b = try row(waitsByRegion, [region, nil, nil])
                #expect(a.cells[0].persons == b.cells[0].persons)
                #expect(a.key(0).persons == b.key(0).persons && a.key(0).persons != 0, "\(String(describing: region))")
                #expect(a.key(1).persons == a.key(0).persons && b.key(1).persons == b.key(0).persons)
            }
            // People whose request was assessed, England over the window: waits-by-la-quarter's persons (it filters on
            // assessed), and waits-by-region-support-reason's assessed_rate numerator and median's persons.
            let assessed = try row(waitsByLA, [nil, nil])
            let england = try row(waitsByRegion, [nil, nil, nil])
            #expect(assessed.key(0).persons != 0)
            #expect(assessed.key(0).persons == england.key(1).numerator)
            #expect(assessed.key(0).persons == england.key(2).persons)
            #expect(assessed.cells[0].persons == england.cells[1].numeratorPersons)
        }
    }
}

extension CellKeyTests {
    @Test func noRecordKeyReachesAReleasedDocumentOrTheAuditTrail() async throws {
        let scratch = try IngestTests.Scratch(persons: 1500, seed: 73)
        defer { scratch.remove() }
        try await withBroker(ingesting: scratch) { broker, db, fixture in
            let document = try await broker.queries.run(
                caller("r-amara-bello"), project: "P2025-002", query: "requests-by-la-quarter", parameters: QueryExecutionTests.period
            ).document
            var released = document.text + document.csv + String(describing: document.json())
            for try await event in try await db.query("SELECT line FROM broker.audit_event").decode(String.self) { released += event }
            for file in try FileManager.default.contentsOfDirectory(atPath: fixture.mirrorDirectory) {
                released += (try? String(contentsOfFile: fixture.mirrorDirectory + "/" + file, encoding: .utf8)) ?? ""
            }
            // Record keys have up to 19 digits; those of 15 or more cannot turn up in a hex digest by chance.
            var leaked = 0
            var checked = 0
            for try await key in try await db.query("SELECT record_key::text FROM linked.person").decode(String.self) where key.count >= 15 {
                checked += 1
                if released.contains(key) { leaked += 1 }
            }
            #expect(checked > 1000)
            #expect(leaked == 0)
        }
    }
}

extension Optional {
    /// `map` with an async transform.
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
