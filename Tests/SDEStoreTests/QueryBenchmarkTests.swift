import Foundation
import Logging
import PostgresNIO
import SDEAudit
import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEQuery
import SDEService
import ServiceLifecycle
@testable import SDEStore
import Testing

/// Vetted-query speed, on demand only: `Benchmarks/queries.sh` loads 1,000,000 synthetic persons once and runs this
/// suite against them (`SDE_BENCH=1 DATABASE_URL=... swift test -c release --filter QueryBenchmarkTests`).
///
/// For every example vetted query, over the whole data window its project allows and without optional filters, it
/// times the broker end to end (`QueryRunner.run`: access decision, compile, SQL, disclosure control, audit release)
/// against PostgreSQL executing the same compiled statement alone (the same READ ONLY transaction as `sde_reader`
/// with the statement timeout, every row read), on connections from one pool, interleaved, and prints the medians
/// and their ratio. It then times disclosure control plus the audit release alone for a ~2,000-cell table.
///
/// The audit trail writes into the benchmark database, with its mirror in `SDE_BENCH_AUDIT_DIR` (default
/// `.sde-bench/queries/audit`) and the signing key of `SDE_BENCH_STATE_DIR` (default `.sde-bench`).
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["SDE_BENCH"] == "1" && ProcessInfo.processInfo.environment["DATABASE_URL"] != nil),
    .serialized)
struct QueryBenchmarkTests {
    struct Case: Sendable {
        let user: String, project: String, query: String, parameters: [String: String]
        var today: CivilDate { QueryBenchmarkTests.today }
    }

    static let today = CivilDate(year: 2026, month: 11, day: 26)!
    /// Every example vetted query over its project's whole data window (the synthetic data span 2022Q2 to 2025Q1).
    static let cases: [Case] = [
        Case(user: "r-priya-shah", project: "P2025-002", query: "requests-by-la-quarter", parameters: ["from": "2023Q1", "to": "2025Q1"]),
        Case(user: "r-priya-shah", project: "P2025-002", query: "waits-by-la-quarter", parameters: ["from": "2023Q1", "to": "2025Q1"]),
        Case(
            user: "r-priya-shah", project: "P2025-002", query: "waits-by-region-support-reason", parameters: ["from": "2023Q1", "to": "2025Q1"]),
        Case(
            user: "r-amara-bello", project: "P2025-003", query: "services-by-type-quarter", parameters: ["from": "2022Q2", "to": "2025Q1"]
        ),
        Case(
            user: "r-amara-bello", project: "P2025-003", query: "home-care-cost-by-support-reason", parameters: ["from": "2022Q2", "to": "2025Q1"]),
        // assessments-by-ethnicity is left out: its only project, P2026-006, is still `proposed`, so nobody may run it.
        Case(
            user: "r-priya-shah", project: "P2025-001", query: "discharge-reablement-by-la", parameters: ["from": "2022Q2", "to": "2025Q1"]
        ),
        Case(
            user: "r-priya-shah", project: "P2025-001", query: "discharge-destinations-by-age", parameters: ["from": "2022Q2", "to": "2025Q1"]),
    ]

    /// The cases named in `SDE_BENCH_QUERIES` (comma-separated query ids), or all of them.
    static var selectedCases: [Case] {
        guard let names = environment["SDE_BENCH_QUERIES"].map({ Set($0.split(separator: ",").map(String.init)) }) else { return cases }
        return cases.filter { names.contains($0.query) }
    }

    static let environment = ProcessInfo.processInfo.environment
    static let logger: Logger = {
        var logger = Logger(label: "sde.bench")
        logger.logLevel = .warning
        return logger
    }()
    static let repetitions = Int(environment["SDE_BENCH_REPETITIONS"] ?? "") ?? 7

    /// Runs `body` with connections from a pool of the benchmark database, an open audit trail and the example policy set.
    func withBroker(_ body: (DatabaseConnections, AuditTrail, PolicySet) async throws -> Void) async throws {
        let config = try DatabaseConfig(url: Self.environment["DATABASE_URL"]!)
        let state = Self.environment["SDE_BENCH_STATE_DIR"] ?? ".sde-bench"
        let key = try AuditKeyFiles(directory: state).loadOrCreate()
        let trail = try await AuditTrail.open(
            database: config, mirrorDirectory: Self.environment["SDE_BENCH_AUDIT_DIR"] ?? state + "/queries/audit", signingKey: key,
            logger: Self.logger)
        let (connections, pool) = DatabaseConnections.pool(config, logger: Self.logger)
        let policy = try QueryExecutionTests.policy()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            do {
                try await body(connections, trail, policy)
            } catch {
                group.cancelAll()
                await trail.close()
                throw error
            }
            group.cancelAll()
        }
        await trail.close()
    }

    @Test func brokerEndToEndAgainstPostgresAlone() async throws {
        try await withBroker { connections, trail, policy in
            let store = PostgresStore(connections: connections)
            let gate = AccessGate(policies: PolicyRegistry(.valid(policy)), trail: trail, today: { Self.today })
            let runner = Broker(gate: gate, store: store, releases: store, tokens: store, auditArchive: store).queries
            let executor = QueryExecutor()
            let persons = try await connections.withDatabase { db in try await db.count("SELECT count(*) FROM linked.person") }
            print("bench: vetted queries over \(persons) persons, median of \(Self.repetitions) interleaved runs each")
            print("bench: | query | result rows | PostgreSQL alone (ms) | broker end to end (ms) | broker − PostgreSQL (ms) | ratio |")
            print("bench: |---|---:|---:|---:|---:|---:|")
            for example in Self.selectedCases {
                let decision = policy.decide(
                    user: example.user, action: .runQuery(project: example.project, query: example.query, parameters: example.parameters),
                    now: example.today)
                let run = try #require(decision.grant?.run, "\(example.query): \(decision.denial?.description ?? "")")
                let compiled = try QueryCompiler.compile(run)
                func postgres() async throws -> (Duration, Int) {
                    var rows = 0
                    let time = try await ContinuousClock().measure {
                        rows = try await connections.withDatabase { db in try await executor.drain(compiled, on: db) }
                    }
                    return (time, rows)
                }
                func broker() async throws -> (Duration, Int) {
                    var rows = 0
                    let time = try await ContinuousClock().measure {
                        let table = try await runner.run(caller(example.user), project: example.project, query: example.query, parameters: example.parameters)
                        rows = table.document.table.rows.count
                    }
                    return (time, rows)
                }
                _ = try await postgres()  // warm the cache and the plan
                _ = try await broker()
                var postgresTimes: [Duration] = [], brokerTimes: [Duration] = []
                for repetition in 0..<Self.repetitions {
                    // Alternate which side goes first, so neither always runs on the other's warm cache.
                    if repetition % 2 == 0 {
                        let (p, pRows) = try await postgres()
                        let (b, bRows) = try await broker()
                        // The broker's table is complete: every catalogue row, of which the statement returns those with data.
                        #expect(bRows == max(pRows, compiled.minimumRows))
                        postgresTimes.append(p)
                        brokerTimes.append(b)
                    } else {
                        let (b, _) = try await broker()
                        let (p, _) = try await postgres()
                        postgresTimes.append(p)
                        brokerTimes.append(b)
                    }
                }
                let (_, rows) = try await postgres()
                let p = Self.median(postgresTimes), b = Self.median(brokerTimes)
                print("bench: | \(example.query) | \(rows) | \(Self.ms(p)) | \(Self.ms(b)) | \(Self.ms(b - p)) | \(String(format: "%.3f", b / p)) |")
            }
        }
    }

    /// With `SDE_BENCH_EXPLAIN=1`: each example's compiled SQL and PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)` of it, run
    /// as the executor runs it, for finding what makes a query slow.
    @Test(.enabled(if: environment["SDE_BENCH_EXPLAIN"] == "1")) func explainTheCompiledStatements() async throws {
        try await withBroker { connections, _, policy in
            for example in Self.cases {
                let decision = policy.decide(
                    user: example.user, action: .runQuery(project: example.project, query: example.query, parameters: example.parameters),
                    now: example.today)
                let compiled = try QueryCompiler.compile(try #require(decision.grant?.run))
                let plan = try await connections.withDatabase { db in try await QueryExecutor().explainAnalyze(compiled, on: db) }
                print("explain: == \(example.query)\nexplain: binds \(compiled.binds)\n\(compiled.sql)\n" + plan.map { "explain: " + $0 }.joined(separator: "\n"))
            }
        }
    }

    @Test func protectionAndAuditOfATwoThousandCellTable() async throws {
        try await withBroker { connections, trail, policy in
            // Requests by region, local authority and quarter over five quarters: (153 + 9 + 1) × (5 + 1) rows × 2 measures.
            let parameters = ["from": "2024Q1", "to": "2025Q1"]
            let decision = policy.decide(
                user: "r-priya-shah", action: .runQuery(project: "P2025-002", query: "requests-by-la-quarter", parameters: parameters), now: Self.today)
            let run = try #require(decision.grant?.run)
            let compiled = try QueryCompiler.compile(run)
            let statistics = try await connections.withDatabase { db in try await QueryExecutor().run(compiled, on: db) }
            let cells = statistics.rows.count * compiled.measures.count
            var protectTimes: [Duration] = [], totalTimes: [Duration] = []
            for _ in 0..<(Self.repetitions + 1) {
                let clock = ContinuousClock()
                let start = clock.now
                let table = try DisclosureControl(rules: run.rules).protect(statistics)
                let protected = clock.now
                let document = ProtectedTableDocument(
                    query: "requests-by-la-quarter", project: "P2025-002", parameters: run.parameters.values, profile: run.profile, table: table)
                _ = try await trail.recordOutput(document.json().canonicalBytes) { digest in
                    try AuditEventDraft(
                        actor: "r-priya-shah", role: "researcher", project: "P2025-002", action: .queryRun, target: "requests-by-la-quarter",
                        parameters: run.parameters.values, policyDigest: AuditDigest(hex: decision.grant!.policyDigest), outcome: .allowed,
                        cells: document.cellCounts, outputDigest: digest)
                }
                protectTimes.append(protected - start)
                totalTimes.append(clock.now - start)
            }
            // The first run pays for one-time set-up; the median is over the rest.
            let protect = Self.median(Array(protectTimes.dropFirst())), total = Self.median(Array(totalTimes.dropFirst()))
            print(
                "bench: protection + audit of a \(cells)-cell table with margins (\(statistics.rows.count) rows): \(Self.ms(total)) ms "
                    + "(disclosure control \(Self.ms(protect)) ms, document and audit release \(Self.ms(total - protect)) ms)")
            #expect(cells > 1_800 && cells < 2_200)
        }
    }

    static func median(_ times: [Duration]) -> Duration { times.sorted()[times.count / 2] }

    static func ms(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    struct BenchmarkFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

extension DatabaseSession {
    /// A single integer from `query`.
    fileprivate func count(_ query: PostgresQuery) async throws -> Int {
        var result = 0
        for try await value in try await self.query(query).decode(Int.self) { result = value }
        return result
    }
}
