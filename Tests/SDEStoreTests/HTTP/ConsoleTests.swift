import Foundation
import HTTPTypes
import HummingbirdTesting
import SDEAudit
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
                var researcher = ConsoleClient(client)
                try await researcher.signIn(try await broker.token(for: "r-priya-shah"))
                let project = try await researcher.send(.get, "/console/projects/P2025-002")
                #expect(project.status == 200 && project.text.contains(#"<select id="requests-by-la-quarter-from" name="from""#))
                let table = try await researcher.send(
                    .post, "/console/projects/P2025-002/queries/requests-by-la-quarter/runs", ["from": "2024Q2", "to": "2024Q3", "la_code": ""])
                #expect(table.status == 200 && table.text.contains(#"data-status="suppressed"><span aria-hidden="true">[c]</span>"#))
                let sequence = try #require(table.text.firstMatch(of: /released under audit event (\d+)/).flatMap { Int64($0.1) })
                let run = try #require(try await broker.event(sequence))
                #expect(run.action == .queryRun && run.actor == "r-priya-shah" && run.parameters == ["from": "2024Q2", "to": "2024Q3"])

                var regulator = ConsoleClient(client)
                try await regulator.signIn(try await broker.token(for: "reg-james-cole"))
                let refused = try await regulator.send(.get, "/console/projects/P2025-002")
                #expect(refused.status == 403)
                let denied = try #require(try await broker.event(try await broker.lastAuditSequence()))
                #expect(denied.action == .projectRead && denied.actor == "reg-james-cole" && denied.outcome == .denied && denied.reason == "wrong_role")
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
                "SDE_RESEARCHER_TOKEN": try await broker.token(for: "r-priya-shah"), "SDE_REGULATOR_TOKEN": try await broker.token(for: "reg-james-cole"),
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
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            return false
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import selenium"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Whether the run must have the browser (CI).
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs `console.py base` with `environment` added (and `SDE_SCREENSHOTS` passed through); its exit status and
    /// output. Waited for without blocking a thread: the server under test runs in this process.
    static func run(_ base: String, environment: [String: String]) async throws -> (Int32, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("sde-browser-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, base]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = output
        process.standardError = output
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        return (status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}

/// A console user over the test client: the session cookie and the last page's anti-forgery token.
struct ConsoleClient {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// Signs in through the form.
    mutating func signIn(_ token: String) async throws {
        _ = try await send(.get, "/console/sign-in")
        let reply = try await send(.post, "/console/sign-in", ["token": token])
        #expect(reply.status == 303)
    }

    /// `method path`, a POST with `fields` and the anti-forgery token, keeping the session cookie.
    mutating func send(_ method: HTTPRequest.Method, _ path: String, _ fields: [String: String] = [:]) async throws -> Reply {
        var headers: [String: String] = [:]
        if let cookie { headers["Cookie"] = cookie }
        var body: Data?
        if method == .post {
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            let all = fields.merging(["csrf": csrf ?? ""]) { field, _ in field }
            body = Data(all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&").utf8)
        }
        let reply = try await client.request(method, path, body: body, headers: headers)
        if let set = reply.headers["set-cookie"], let pair = set.split(separator: ";").first { cookie = pair.hasSuffix("=") ? nil : String(pair) }
        if let match = reply.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/) { csrf = String(match.1) }
        return reply
    }
}
