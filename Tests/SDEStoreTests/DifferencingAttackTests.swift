import PostgresNIO
import SDEDisclosure
import SDEService
import SDEStore
import Testing

/// Differencing attacks that a ledger keyed by vetted query let through (issue 11, mechanisms 4 and 5): each test
/// builds data person by person so that one subtraction of two released counts would give 1 to k - 1 persons (k = 15
/// in project P2025-002), and checks that the finer cell of the pair is withheld for `differencing`.
@Suite struct DifferencingAttackTests {
    static let hartlepool = DifferencingLedgerTests.hartlepool, middlesbrough = DifferencingLedgerTests.middlesbrough
    static let northEast = DifferencingLedgerTests.northEast

    /// Adds `count` new persons living in `la`, each with one request on `day`, assessed 10 days later when `assessed`.
    static func requests(_ db: DatabaseSession, la: String, day: String, count: Int, assessed: Bool, tag: String) async throws {
        try await DifferencingLedgerTests.requests(db, la: la, day: day, count: count, tag: tag)
        guard assessed else { return }
        let prefix = "\(la)-\(day)-\(tag)"
        try await db.execute(
            """
            INSERT INTO linked.care_event (person_id, record_key, la_code, event_ref, event_type, event_start, outcome, support_reason)
            SELECT p.person_id, p.record_key, \(la), 'a' || \(prefix) || g::text, 'assessment',
                   \(day)::date + 10, 'long_term_support', 'physical_support'
            FROM generate_series(1, \(count)) g JOIN linked.person p ON p.person_id = sha256(convert_to(\(prefix) || g::text, 'UTF8'))
            """)
    }

    static func run(_ runner: QueryRunner, _ query: String, from: String = "2024Q2", to: String) async throws -> ProtectedTableDocument {
        try await runner.run(caller("r-amara-bello"), project: "P2025-002", query: query, parameters: ["from": from, "to": to]).document
    }

    /// Mechanism 4: persons with a request (requests-by-la-quarter) minus persons with an assessed request
    /// (waits-by-la-quarter, `assessed = true`) over the same view and window are the 3 people never assessed.
    @Test func twoVettedQueriesOverOneViewCannotSingleOutTheNeverAssessed() async throws {
        try await DifferencingLedgerTests().withService { runner, _, db, _ in
            for la in [Self.hartlepool, Self.middlesbrough] {
                try await Self.requests(db, la: la, day: "2024-05-15", count: 30, assessed: true, tag: "a")
            }
            try await Self.requests(db, la: Self.hartlepool, day: "2024-05-15", count: 3, assessed: false, tag: "n")
            let requests = try await Self.run(runner, "requests-by-la-quarter", to: "2024Q2")
            #expect(try DifferencingLedgerTests.cells(requests, [Self.northEast, Self.hartlepool, nil])[0].status == .perturbed)

            let waits = try await Self.run(runner, "waits-by-la-quarter", to: "2024Q2")
            for row in [[Self.hartlepool, nil], [Self.hartlepool, "2024Q2"]] as [[String?]] {
                #expect(try DifferencingLedgerTests.cells(waits, row)[0].rule == .differencing, "\(row)")
            }
            // Middlesbrough's assessed and requesting persons are the same 30: nothing to withhold.
            #expect(try DifferencingLedgerTests.cells(waits, [Self.middlesbrough, nil])[0].rule != .differencing)
        }
    }

    /// Mechanism 5: in one answer, Hartlepool's 2024Q2 cell (30) and its total over 2024Q2-2024Q3 (32) differ by the 2
    /// people first seen in 2024Q3; the finer cell, the quarter, is withheld.
    @Test func aQuarterCellAndItsWindowTotalInOneAnswer() async throws {
        try await DifferencingLedgerTests().withService { runner, _, db, _ in
            for la in [Self.hartlepool, Self.middlesbrough] {
                try await DifferencingLedgerTests.requests(db, la: la, day: "2024-05-15", count: 30)
            }
            try await DifferencingLedgerTests.requests(db, la: Self.hartlepool, day: "2024-08-15", count: 2)
            try await DifferencingLedgerTests.requests(db, la: Self.middlesbrough, day: "2024-08-15", count: 30)
            let table = try await Self.run(runner, "requests-by-la-quarter", to: "2024Q3")
            #expect(try DifferencingLedgerTests.cells(table, [Self.northEast, Self.hartlepool, "2024Q2"])[0].rule == .differencing)
            // Middlesbrough's quarter and its total differ by 30 >= k.
            #expect(try DifferencingLedgerTests.cells(table, [Self.northEast, Self.middlesbrough, "2024Q2"])[0].rule != .differencing)
        }
    }

    /// A region query (waits-by-region-support-reason: the North East's 33 assessed persons, the rate's numerator) and
    /// a local-authority-only query (waits-by-la-quarter: Hartlepool's 30 assessed persons) differ by Middlesbrough's 3
    /// assessed persons, whom the second answer withholds by threshold.
    @Test func aRegionTotalAndALocalAuthorityQuery() async throws {
        try await DifferencingLedgerTests().withService { runner, _, db, _ in
            try await Self.requests(db, la: Self.hartlepool, day: "2024-05-15", count: 30, assessed: true, tag: "a")
            try await Self.requests(db, la: Self.middlesbrough, day: "2024-05-15", count: 3, assessed: true, tag: "a")
            try await Self.requests(db, la: Self.middlesbrough, day: "2024-05-15", count: 20, assessed: false, tag: "n")
            let byRegion = try await Self.run(runner, "waits-by-region-support-reason", to: "2024Q2")
            let rate = try #require(byRegion.table.measures.firstIndex { $0.name == "assessed_rate" })
            #expect(try DifferencingLedgerTests.cells(byRegion, [Self.northEast, nil, nil])[rate].status == .perturbed)

            let byLA = try await Self.run(runner, "waits-by-la-quarter", to: "2024Q2")
            #expect(try DifferencingLedgerTests.cells(byLA, [Self.hartlepool, nil])[0].rule == .differencing)
            #expect(try DifferencingLedgerTests.cells(byLA, [Self.middlesbrough, nil])[0].rule == .threshold)
        }
    }
}
