import Foundation
import HummingbirdTesting
import Testing

/// Researchers' own tools against a live broker, as `serve` builds it: pandas reading a protected table from the API's
/// CSV, and schemathesis checking that `openapi.yaml` and the server agree. Where `CI=true` a missing tool fails the
/// test (`.ci/run` installs both); elsewhere the test does not run without it (and says so).
@Suite struct ResearcherToolTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    @Test(.timeLimit(.minutes(5)))
    func aResearcherReadsAProtectedTableIntoPandasWithItsStatusColumns() async throws {
        guard try await ExternalProgram.run(["python3", "-c", "import pandas"]).status == 0 || ExternalProgram.inCI else {
            print("pandas is not installed (python3 -m pip install pandas): the pandas test did not run")
            return
        }
        try await Self.withLiveBroker { base, token in
            let script = Self.root.appending(path: "Tests/Pandas/read_table.py").path
            let (status, output) = try await ExternalProgram.run(["python3", script, base], environment: ["SDE_TOKEN": token])
            #expect(status == 0, "read_table.py:\n\(output)")
            #expect(output.contains("measures ['persons', 'requests']"), "\(output)")
        }
    }

    /// Every check of schemathesis, with a bounded budget (a few examples per operation, a fixed seed), against the
    /// routes as a researcher calls them; `Tests/Contract/schemathesis.toml` says the one allowance and why.
    @Test(.enabled(if: ExternalProgram.inCI || ExternalProgram.onPath("schemathesis"), "schemathesis is not installed (pip)"), .timeLimit(.minutes(10)))
    func schemathesisFindsNoDisagreementBetweenTheContractAndTheServer() async throws {
        try await Self.withLiveBroker { base, token in
            let (status, output) = try await ExternalProgram.run([
                "schemathesis", "--config-file", Self.root.appending(path: "Tests/Contract/schemathesis.toml").path, "--no-color", "run",
                Self.root.appending(path: "openapi.yaml").path, "--url", base, "-H", "Authorization: Bearer \(token)",
                "--checks", "all", "--max-examples", "10", "--seed", "1", "--request-timeout", "60", "--max-response-time", "60",
            ])
            #expect(status == 0, "schemathesis:\n\(output.suffix(6000))")
        }
    }

    /// Runs `body` with the base URL of a live broker (as `serve` builds it, on loopback) and researcher r-priya-shah's token.
    static func withLiveBroker(_ body: @escaping @Sendable (_ base: String, _ token: String) async throws -> Void) async throws {
        try await TestBroker.with { broker, app in
            let token = try await broker.token(for: "r-priya-shah")
            try await app.test(.live) { client in try await body("http://127.0.0.1:\(try #require(client.port))", token) }
        }
    }
}
