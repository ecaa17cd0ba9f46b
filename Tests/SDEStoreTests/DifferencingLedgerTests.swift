import Foundation
import PostgresNIO
import SDEAudit
import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEService
import SDEStore
import Testing

/// The differencing guard end to end: runs and releases of `requests-by-la-quarter` over nested windows, on data built
/// person by person so that each cell's true count, and each difference between windows, is known exactly.
@Suite struct DifferencingLedgerTests {
    static let today = QueryRunnerTests.today
    /// Hartlepool and Middlesbrough, both in the North East (E12000001).
    static let hartlepool = "E06000001", middlesbrough = "E06000002", northEast = "E12000001"

    /// Adds `count` new persons in every local authority, each with one request for support on `day`: a background of
    /// ordinary councils, so that a publication (zeros disclosive, every catalogue row) is not mostly suppressed zeros.
    static func background(_ db: DatabaseSession, day: String, count: Int, except: String = "") async throws {
        let prefix = "background-\(day)-"
        try await db.execute(
            """
            INSERT INTO linked.person (person_id, record_key, birth_year, sex, la_code)
            SELECT sha256(convert_to(\(prefix) || l.la_code || g::text, 'UTF8')),
                   ('x' || left(md5(\(prefix) || l.la_code || g::text), 15))::bit(60)::bigint, 1950, 'F', l.la_code
            FROM linked.local_authority l, generate_series(1, \(count)) g WHERE l.la_code <> \(except)
            """)
        try await db.execute(
            """
            INSERT INTO linked.care_event (person_id, record_key, la_code, event_ref, event_type, event_start, outcome, support_reason)
            SELECT p.person_id, p.record_key, p.la_code, 'bg' || left(encode(p.person_id, 'hex'), 30), 'request', \(day)::date, 'signposted',
                   'physical_support'
            FROM linked.person p WHERE p.person_id IN (
                SELECT sha256(convert_to(\(prefix) || l.la_code || g::text, 'UTF8')) FROM linked.local_authority l, generate_series(1, \(count)) g)
            """)
    }

    /// Adds `count` new persons living in `la`, each with one request for support on `day` (`tag` tells apart the persons
    /// of two calls with the same local authority and day).
    static func requests(_ db: DatabaseSession, la: String, day: String, count: Int, tag: String = "") async throws {
        guard count > 0 else { return }
        let prefix = "\(la)-\(day)-\(tag)"
        try await db.execute(
            """
            INSERT INTO linked.person (person_id, record_key, birth_year, sex, la_code)
            SELECT sha256(convert_to(\(prefix) || g::text, 'UTF8')), ('x' || left(md5(\(prefix) || g::text), 15))::bit(60)::bigint, 1950, 'F', \(la)
            FROM generate_series(1, \(count)) g
            """)
        try await db.execute(
            """
            INSERT INTO linked.care_event (person_id, record_key, la_code, event_ref, event_type, event_start, outcome, support_reason)
            SELECT sha256(convert_to(\(prefix) || g::text, 'UTF8')), ('x' || left(md5(\(prefix) || g::text), 15))::bit(60)::bigint, \(la), \(prefix) || g::text, 'request', \(day)::date, 'signposted', 'physical_support'
            FROM generate_series(1, \(count)) g
            """)
    }

    /// Gives every person of `la` whose request was on `from` a second request on `day` (no new persons).
    static func againInQuarter(_ db: DatabaseSession, la: String, from: String, day: String) async throws {
        try await db.execute(
            """
            INSERT INTO linked.care_event (person_id, record_key, la_code, event_ref, event_type, event_start, outcome, support_reason)
            SELECT e.person_id, e.record_key, e.la_code, 'again-' || e.event_ref, 'request', \(day)::date, 'signposted', 'physical_support'
            FROM linked.care_event e WHERE e.la_code = \(la) AND e.event_start = \(from)::date AND e.event_type = 'request'
            """)
    }

    /// Runs `body` with a runner, a publisher and the audit fixture over an empty (migrated) database.
    func withService(_ body: (QueryRunner, ReleasePublisher, DatabaseSession, AuditTrailTests.Fixture) async throws -> Void) async throws {
        try await withBroker { broker, db, fixture in try await body(broker.queries, broker.publisher, db, fixture) }
    }

    /// A researcher's run of requests-by-la-quarter from 2024Q2 to `to`; fails the test unless it is released.
    static func run(_ runner: QueryRunner, user: String = "r-amara-bello", to: String) async throws -> ProtectedTableDocument {
        try await runner.run(caller(user), project: "P2025-002", query: "requests-by-la-quarter", parameters: ["from": "2024Q2", "to": to]).document
    }

    /// Whether `cell` was released perturbed within the profiles' maximum noise (4) of `count`.
    static func isPerturbed(_ cell: ProtectedCell, around count: Int) -> Bool {
        guard cell.status == .perturbed, case .integer(let value)? = cell.value else { return false }
        return abs(value - count) <= 4
    }

    /// The cells (persons, requests) of the row with `dimensions`.
    static func cells(_ document: ProtectedTableDocument, _ dimensions: [String?]) throws -> [ProtectedCell] {
        try #require(document.table.rows.first { $0.dimensions == dimensions }).cells
    }

    /// Hartlepool's total over quarters grows by `difference` persons (new people in 2024Q4) between a run to 2024Q4
    /// and a nested run to 2024Q3; Middlesbrough's by 20, the region's by `difference + 20`. Only Hartlepool's total may
    /// be suppressed for differencing, and only when 1 <= difference <= k - 1 (k = 15 in project P2025-002).
    @Test(arguments: [0, 1, 14, 15])
    func aNestedWindowCannotRevealAFewPersons(difference: Int) async throws {
        try await withService { runner, _, db, fixture in
            for la in [Self.hartlepool, Self.middlesbrough] {
                try await Self.requests(db, la: la, day: "2024-05-15", count: 30)
                try await Self.requests(db, la: la, day: "2024-08-15", count: 30)
            }
            try await Self.requests(db, la: Self.hartlepool, day: "2024-11-15", count: difference)
            try await Self.requests(db, la: Self.middlesbrough, day: "2024-11-15", count: 20)
            // Hartlepool's May people ask again in 2024Q4, so its 2024Q4 cell is never small (and needs no partner,
            // which could be its total): only the `difference` new people change its total between the windows.
            try await Self.againInQuarter(db, la: Self.hartlepool, from: "2024-05-15", day: "2024-11-16")

            let first = try await Self.run(runner, to: "2024Q4")
            let total: [String?] = [Self.northEast, Self.hartlepool, nil]
            #expect(try Self.cells(first, total).allSatisfy { $0.status == .perturbed }, "the first answer releases Hartlepool's total")
            // The ledger holds its true count, not the rounded one.
            let recorded = try await db.scalar(
                """
                SELECT persons::int FROM broker.released_population
                WHERE predicates = \(Self.hartlepoolPredicates)::jsonb AND window_from = '2024-04-01' AND window_to = '2024-12-31'
                  AND source = 'project' AND source_id = 'P2025-002'
                """)
            #expect(recorded == 60 + difference)

            let second = try await Self.run(runner, user: "r-priya-shah", to: "2024Q3")
            let rules = try Self.cells(second, total).map(\.rule)
            if (1...14).contains(difference) {
                #expect(rules == [.differencing, .differencing])
            } else {
                #expect(rules == [nil, nil])
            }
            // Cells whose counts did not change, or changed by k or more, are not differencing suppressions.
            for row in second.table.rows where row.dimensions != total {
                #expect(row.cells.allSatisfy { $0.rule != .differencing }, "\(row.dimensions)")
            }
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    /// A regulator release (no project, an operator) and a researcher's later run over a window nested in it: the
    /// ledger is shared, so the researcher cannot subtract the two to find Hartlepool's five requests in 2025Q1.
    @Test func aReleaseAndAResearcherCannotCollude() async throws {
        try await withService { runner, publisher, db, _ in
            // Hartlepool's own people in 2025Q1 stay the 5 below, the difference the researcher must not see.
            for day in ["2024-05-20", "2024-08-20", "2024-11-20"] { try await Self.background(db, day: day, count: 30) }
            try await Self.background(db, day: "2025-02-20", count: 30, except: Self.hartlepool)
            for la in [Self.hartlepool, Self.middlesbrough] {
                for day in ["2024-05-15", "2024-08-15", "2024-11-15"] { try await Self.requests(db, la: la, day: day, count: 30) }
            }
            try await Self.requests(db, la: Self.hartlepool, day: "2025-02-15", count: 5)
            try await Self.requests(db, la: Self.middlesbrough, day: "2025-02-15", count: 25)

            let stored = try await publisher.publish(caller("op-dan-wright"), release: "cqc-requests-by-la-2024-25").stored
            #expect(stored.version == 1)
            let total: [String?] = [Self.northEast, Self.hartlepool, nil]
            let fromRelease = try await db.scalar(
                """
                SELECT persons::int FROM broker.released_population
                WHERE predicates = \(Self.hartlepoolPredicates)::jsonb AND window_from = '2024-04-01' AND window_to = '2025-03-31'
                  AND source = 'release' AND source_id = 'cqc-requests-by-la-2024-25' AND query_id = 'requests-by-la-quarter'
                """)
            #expect(fromRelease == 185, "the release published Hartlepool's total over the year (95, and 90 in the background)")

            let run = try await Self.run(runner, user: "r-priya-shah", to: "2024Q4")
            #expect(try Self.cells(run, total).map(\.rule) == [.differencing, .differencing])
            // Middlesbrough's total moved by 25 >= k: not a differencing suppression. Nor does it need to partner
            // Hartlepool's (LAs partition persons, region = Hartlepool + Middlesbrough): the region's total and
            // Middlesbrough's each carry up to ±4 of cell-key noise, which leaves Hartlepool's at least k = 15 wide,
            // as the attacker audit checks.
            #expect(try Self.cells(run, [Self.northEast, Self.middlesbrough, nil]).map(\.status) == [.perturbed, .perturbed])
            #expect(run.table.audit.passed)
        }
    }

    /// Two nested runs at the same moment: whichever takes the query's ledger lock second must see the first's cells,
    /// so exactly one of them withholds Hartlepool's total (without the lock both could read an empty ledger).
    @Test func concurrentNestedRunsCannotBothPassTheGuard() async throws {
        try await withService { runner, _, db, _ in
            for la in [Self.hartlepool, Self.middlesbrough] {
                try await Self.requests(db, la: la, day: "2024-05-15", count: 30)
                try await Self.requests(db, la: la, day: "2024-08-15", count: 30)
            }
            try await Self.requests(db, la: Self.hartlepool, day: "2024-11-15", count: 5)
            try await Self.requests(db, la: Self.middlesbrough, day: "2024-11-15", count: 20)
            let total: [String?] = [Self.northEast, Self.hartlepool, nil]
            let rules = try await withThrowingTaskGroup(of: SuppressionRule?.self) { group in
                for to in ["2024Q4", "2024Q3"] { group.addTask { try Self.cells(try await Self.run(runner, to: to), total)[0].rule } }
                return try await group.reduce(into: [SuppressionRule?]()) { $0.append($1) }
            }
            #expect(rules.filter { $0 == .differencing }.count == 1, "\(rules)")
            #expect(rules.filter { $0 == nil }.count == 1, "\(rules)")
        }
    }

    /// If the ledger cannot be written, the run fails (audited as an error) and nothing is released.
    @Test func aLedgerWriteFailureReleasesNothing() async throws {
        try await withService { runner, _, db, fixture in
            for la in [Self.hartlepool, Self.middlesbrough] { try await Self.requests(db, la: la, day: "2024-05-15", count: 30) }
            try await db.execute("REVOKE INSERT ON broker.released_population FROM sde_broker")
            let failure = await expectServiceError(.databaseUnavailable) { try await Self.run(runner, to: "2024Q2") }
            let event = try #require(failure?.event, "the failure is audited")
            #expect(event.outcome == .error && event.reason == "database_unavailable" && event.outputDigest == nil && event.cells.released == 0)
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") == 0)
            // The only event is the error: no allowed query.run was ever recorded.
            #expect(event.sequence == 1)
            // With the privilege back, the same run is released and recorded.
            try await db.execute("GRANT INSERT ON broker.released_population TO sde_broker")
            _ = try await Self.run(runner, to: "2024Q2")
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") > 0)
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test func theLedgerIsAppendOnly() async throws {
        try await withService { runner, _, db, _ in
            for la in [Self.hartlepool, Self.middlesbrough] { try await Self.requests(db, la: la, day: "2024-05-15", count: 30) }
            _ = try await Self.run(runner, to: "2024Q2")
            await expectAppendOnly(
                db, ["UPDATE broker.released_population SET persons = 0", "DELETE FROM broker.released_population", "TRUNCATE broker.released_population"])
            // The read-only role that vetted queries run as cannot read the ledger at all.
            let byReader = await #expect(throws: StoreError.self) {
                try await db.transaction("as reader") {
                    try await db.execute("SET LOCAL ROLE sde_reader")
                    try await db.execute("SELECT count(*) FROM broker.released_population")
                }
            }
            #expect(byReader?.message.contains("42501") == true)
        }
    }

    /// Repeating a run with the same window, filters and true counts adds nothing to the guard, so it adds no rows.
    @Test func repeatingARunDoesNotGrowTheLedger() async throws {
        try await withService { runner, _, db, _ in
            for la in [Self.hartlepool, Self.middlesbrough] { try await Self.requests(db, la: la, day: "2024-05-15", count: 30) }
            _ = try await Self.run(runner, to: "2024Q2")
            let once = try await db.scalar("SELECT count(*)::int FROM broker.released_population")
            #expect(once > 0)
            for user in ["r-amara-bello", "r-priya-shah"] { _ = try await Self.run(runner, user: user, to: "2024Q2") }
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") == once)
            // New data changes a true count: that cell is recorded again, with its new count.
            try await Self.requests(db, la: Self.hartlepool, day: "2024-05-16", count: 15)
            _ = try await Self.run(runner, to: "2024Q2")
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") > once)
        }
    }

    /// A repeat on unchanged data releases only cells the ledger already holds, so it does not wait for the query's
    /// ledger lock; a run with new cells does wait, and is recorded once the lock is free.
    @Test func onlyARunWithNewCellsWaitsForTheLedgerLock() async throws {
        try await withService { runner, _, db, _ in
            for la in [Self.hartlepool, Self.middlesbrough] { try await Self.requests(db, la: la, day: "2024-05-15", count: 30) }
            let first = try await Self.run(runner, to: "2024Q2")
            let recorded = try await db.scalar("SELECT count(*)::int FROM broker.released_population")
            let longer = try await db.transaction("hold the ledger lock") {
                try await db.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(\(DifferencingLedger.lockNamespace)), hashtext('request_waits'))")
                let repeated = try await Self.run(runner, to: "2024Q2")
                #expect(repeated.table == first.table)
                let longer = Task { try await Self.run(runner, to: "2024Q3") }
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") == recorded, "the new run waits")
                return longer
            }
            _ = try await longer.value
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") > recorded)
        }
    }

    /// Hartlepool's population in requests-by-la-quarter (its region implied), as the ledger writes it.
    static let hartlepoolPredicates = #"{"la_code":["E06000001"],"region_code":["E12000001"]}"#
}

/// A test precondition that failed, with what was found instead.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
