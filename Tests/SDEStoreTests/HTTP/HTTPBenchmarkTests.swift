import Foundation
import HummingbirdTesting
import PostgresNIO
import SDECommon
import SDEPolicy
import SDEQuery
import SDEServer
import SDEService
import Testing

@testable import SDEStore

/// End-to-end latency of a national vetted query over HTTP against PostgreSQL executing its compiled SQL alone, on
/// demand only (`Benchmarks/http.sh`, after `Benchmarks/bench-db.sh` has loaded 1,000,000 persons): the application
/// `serve` builds, live on loopback over the benchmark database, a token, and `requests-by-la-quarter` for every local
/// authority, region and England over two years, interleaved with the same statement run alone; medians, their ratio,
/// and the median of the ratios of adjacent pairs.
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["SDE_BENCH"] == "1" && ProcessInfo.processInfo.environment["DATABASE_URL"] != nil),
    .serialized)
struct HTTPBenchmarkTests {
    @Test func nationalQueryOverHTTPAgainstPostgresAlone() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try DatabaseConfig(url: try #require(environment["DATABASE_URL"]))
        let state = environment["SDE_BENCH_STATE_DIR"] ?? ".sde-bench"
        let national = QueryBenchmarkTests.cases[0]
        let policy = try QueryExecutionTests.policy()
        let run = try #require(
            policy.decide(
                user: national.user, action: .runQuery(project: national.project, query: national.query, parameters: national.parameters),
                now: national.today
            )
            .grant?.run)
        let compiled = try QueryCompiler.compile(run)
        let executor = QueryExecutor()
        // The application `serve` builds, without a statistics cache: every request runs the statement, as the first
        // run of a query does.
        var configuration = BrokerConfiguration(database: config)
        configuration.policyDirectory = QueryExecutionTests.root + "/Policies"
        configuration.sqlDirectory = TestPostgres.sqlDirectory
        configuration.stateDirectory = state
        configuration.auditDirectory = environment["SDE_BENCH_AUDIT_DIR"] ?? state + "/queries/audit"
        configuration.statisticsCacheCells = 0
        configuration.today = { national.today }
        try await DatabaseSession.with(config, logger: QueryBenchmarkTests.logger) { db in
            let token = try await TokenStore.issue(user: national.user, expires: national.today.adding(days: 1), on: db).token
            let app = try await buildApplication(configuration, logger: QueryBenchmarkTests.logger)
            try await app.test(.live) { client in
                func http() async throws -> Duration {
                    try await ContinuousClock().measure {
                        let reply = try await client.run(national.project, national.query, national.parameters, token: token)
                        guard reply.status == 200 else { throw QueryBenchmarkTests.BenchmarkFailure("HTTP \(reply.status) \(reply.text)") }
                    }
                }
                func postgres() async throws -> Duration {
                    try await ContinuousClock().measure { _ = try await executor.drain(compiled, on: db) }
                }
                _ = try await http()
                _ = try await postgres()
                var httpTimes: [Duration] = [], postgresTimes: [Duration] = []
                for repetition in 0..<QueryBenchmarkTests.repetitions {
                    if repetition % 2 == 0 {
                        postgresTimes.append(try await postgres())
                        httpTimes.append(try await http())
                    } else {
                        httpTimes.append(try await http())
                        postgresTimes.append(try await postgres())
                    }
                }
                // Each repetition's two runs are adjacent, so the median of their ratios cancels the machine's slow
                // drifts (other tenants) that the ratio of the two medians keeps.
                let h = QueryBenchmarkTests.median(httpTimes), p = QueryBenchmarkTests.median(postgresTimes)
                let paired = zip(httpTimes, postgresTimes).map { $0 / $1 }.sorted()[httpTimes.count / 2]
                print(
                    "bench: national \(national.query) \(national.parameters["from"]!)..\(national.parameters["to"]!): PostgreSQL alone "
                        + "\(QueryBenchmarkTests.ms(p)) ms, over HTTP end to end \(QueryBenchmarkTests.ms(h)) ms, "
                        + "ratio \(String(format: "%.3f", h / p)); "
                        + "median of the paired ratios \(String(format: "%.3f", paired)) (\(QueryBenchmarkTests.repetitions) pairs)")
            }
        }
    }
}
