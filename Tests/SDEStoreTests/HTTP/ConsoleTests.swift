import Foundation
import HTTPTypes
import HummingbirdTesting
import SDEAudit
import SDEConsoleTestSupport
import SDEDevCluster
import SDEServer
import SDEService
import SDEStore
import Testing

/// The web console in the application `serve` builds, over a real PostgreSQL: through the router, and in a real browser
/// (headless Chromium driven by `Tests/Browser/console.py`) against the live server.
@Suite struct ConsoleTests {
    @Test func aResearcherRunsAQueryInTheConsoleAndARegulatorIsRefusedTheirPageAudited() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                var researcher = Visitor(client)
                #expect(try await researcher.signIn(try await broker.token(for: "r-priya-shah")).status == .seeOther)
                let project = try await researcher.get("/console/projects/P2025-002")
                #expect(project.status == .ok && project.text.contains(#"<select id="requests-by-la-quarter-from" name="from""#))
                let table = try await researcher.post(
                    "/console/projects/P2025-002/queries/requests-by-la-quarter/runs", ["from": "2024Q2", "to": "2024Q3", "la_code": ""])
                #expect(table.status == .ok && table.text.contains(#"data-status="suppressed"><span aria-hidden="true">[c]</span>"#))
                let sequence = try #require(table.text.firstMatch(of: /released under audit event (\d+)/).flatMap { Int64($0.1) })
                let run = try #require(try await broker.event(sequence))
                #expect(run.action == .queryRun && run.actor == "r-priya-shah" && run.parameters == ["from": "2024Q2", "to": "2024Q3"])

                var regulator = Visitor(client)
                try await regulator.signIn(try await broker.token(for: "reg-james-cole"))
                #expect(try await regulator.get("/console/projects/P2025-002").status == .forbidden)
                let denied = try #require(try await broker.event(try await broker.lastAuditSequence()))
                #expect(
                    denied.action == .projectRead && denied.actor == "reg-james-cole" && denied.outcome == .denied && denied.reason == "wrong_role")
                #expect(try await broker.audit.verify(broker.db).isIntact)
            }
        }
    }

    /// Skipped only outside CI when the browser is not installed; in CI (`CI=true`) a missing browser fails.
    /// With `SDE_SCREENSHOTS=DIR` the script also saves the main pages there (`docs/console/`), over a larger extract
    /// so that the pictures show released values beside suppressed ones.
    @Test(.enabled(if: Browser.installed || Browser.required), .timeLimit(.minutes(5)))
    func inARealBrowserAResearcherRunsAQueryAndARegulatorIsRefused() async throws {
        try #require(Browser.installed, "CI needs chromium, chromium-driver and selenium (.ci/run installs them)")
        let persons = ProcessInfo.processInfo.environment["SDE_SCREENSHOTS"] == nil ? 2000 : 40_000
        try await TestBroker.with(persons: persons) { broker, app in
            let release = "cqc-requests-by-la-2024-25"
            _ = try await broker.configuration.withBroker(logger: TestPostgres.logger) { cli in
                try await cli.publisher.publish(caller("op-dan-wright"), release: release)
            }
            let tokens = [
                "SDE_RESEARCHER_TOKEN": try await broker.token(for: "r-priya-shah"),
                "SDE_REGULATOR_TOKEN": try await broker.token(for: "reg-james-cole"),
                "SDE_OFFICER_TOKEN": try await broker.token(for: "ig-helen-moore"), "SDE_RELEASE": release,
            ]
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let (status, output) = try await Browser.run("http://127.0.0.1:\(port)", environment: tokens)
                #expect(status == 0, "the browser checks failed:\n\(output)")
            }
        }
    }
}

/// Headless Chromium and Selenium, as `.ci/run` installs them (Debian's chromium and chromium-driver, selenium from PyPI).
enum Browser {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Browser/console.py")

    /// Whether the browser, its driver and Selenium are installed.
    static let installed: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        else {
            return false
        }
        // Through ChildProcess (posix_spawn and waitpid), not Foundation.Process: see ExternalProgram.
        return (try? ChildProcess.run("/usr/bin/env", ["python3", "-c", "import selenium"], logPath: "/dev/null")) == 0
    }()

    /// Whether the run must have the browser (CI).
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs `console.py base` with `environment` added (and `SDE_SCREENSHOTS` passed through); its exit status and
    /// output. Waited for on a thread of its own (``ExternalProgram``): the server under test runs in this process.
    static func run(_ base: String, environment: [String: String]) async throws -> (Int32, String) {
        try await ExternalProgram.run(["python3", script.path, base], environment: environment)
    }
}
