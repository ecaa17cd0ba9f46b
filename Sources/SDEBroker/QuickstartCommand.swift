import ArgumentParser
import Foundation
import Hummingbird
import SDEAudit
import SDECommon
import SDEDevCluster
import SDEExtracts
import SDEIngest
import SDEPolicy
import SDEServer
import SDEService
import SDEStore

/// `sde-broker quickstart`: the whole path on a fresh clone, on the embedded PostgreSQL.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Start the embedded PostgreSQL, migrate, synthesise and ingest extracts, run example queries and releases, and verify the audit trail."
    )

    @Option(help: "Number of synthetic people.") var persons: Int = 20_000
    @Option(help: "Random seed of the synthetic extracts.") var seed: UInt64 = 2026
    @Flag(help: "After the demo, issue a demo token, print a curl command, and serve the HTTP API until interrupted.") var serve = false
    @Option(help: "The port --serve listens on (loopback).") var port = 8080
    @OptionGroup var options: BrokerOptions

    /// The operator the demo acts as, and the researchers' example runs.
    static let demoOperator = "op-dan-wright"
    static let examples: [(user: String, project: String, query: String, parameters: [String: String])] = [
        ("r-amara-bello", "P2025-003", "services-by-type-quarter", ["from": "2023Q2", "to": "2024Q1"]),
        ("r-amara-bello", "P2025-003", "home-care-cost-by-support-reason", ["from": "2023Q2", "to": "2024Q1"]),
        ("r-tom-okafor", "P2025-002", "requests-by-la-quarter", ["from": "2024Q1", "to": "2024Q1"]),
    ]

    func run() async throws {
        try installRuntimePackages()
        step("1. Database")
        var configuration = try await options.configuration(start: true)
        print("   PostgreSQL at \(configuration.database.redacted)\(options.embedded == nil ? " (DATABASE_URL)" : " (embedded, in \(options.stateDir))")")
        let report = try await DatabaseSession.with(configuration.database, logger: .cli) { try await configuration.migrator.migrate($0) }
        print("   schema: \(report.applied.count) files applied, \(report.unchanged) already up to date")

        step("2. Policies: who may see what (Policies/, signed by the IG team)")
        print(indented(try options.policy.load().summary(now: try options.day())))

        let extracts = try await syntheticExtracts()
        try await reportingRefusals {
            try await configuration.withBroker(logger: .cli) { broker in
                step("4. Pseudonymising ingest, as operator \(Self.demoOperator) (with the token in \(options.stateDir)/operator.token)")
                let operatorCaller = try await operatorCaller(broker)
                let keys = try keys()
                let report = try await withProgress("   ingest", unit: "rows") { progress in
                    try await configuration.ingest(operatorCaller, directory: extracts, keys: keys, quarantine: nil, broker: broker, progress: progress, logger: .cli)
                }
                print(indented(report.summary))

                step("5. What the database now holds")
                try await DatabaseSession.with(configuration.database, logger: .cli) { db in print(indented(try await LoadedData.describe(db).joined(separator: "\n"))) }

                step("6. Researchers run vetted queries with their tokens (access decided, cells protected, audited before release)")
                try await runExamples(broker, operatorCaller: operatorCaller)

                step("7. Regulator releases (computed under the publication profile, audited, stored immutably)")
                try await publishReleases(broker, operatorCaller: operatorCaller)
            }
        }

        step("8. The audit trail (every access, hash-chained, in the database and in \(options.auditDir)/)")
        let verification = try await withProgress("   audit verify", unit: "events") { progress in
            try await configuration.verifyAuditTrail(progress: progress, logger: .cli)
        }
        print(indented(verification.summary))
        guard serve else {
            print("\nNext: `swift run sde-broker quickstart --serve` for the HTTP API, `swift run sde-broker db status`, or `db stop` when done.")
            return
        }
        step("9. The HTTP API (Ctrl-C stops it)")
        try await printDemoToken(configuration)
        configuration.port = port
        try await buildApplication(configuration, logger: .cli) { port in
            print("   serving on http://127.0.0.1:\(port) (openapi.yaml describes every route)")
            fflush(nil)  // the token and the curl lines must show even when standard output is a pipe or a file
        }.runService()
    }

    /// Step 0, on a fresh machine: the runtime packages missing (PostgreSQL, GLPK), installed with apt-get when root;
    /// otherwise the error names the one command to run.
    private func installRuntimePackages() throws {
        let missing = RuntimePackages.missing(embeddedCluster: options.embedded != nil)
        guard !missing.isEmpty else { return }
        step("0. Runtime packages")
        try FileManager.default.createDirectory(atPath: options.stateDir, withIntermediateDirectories: true)
        let log = options.stateDir + "/apt-get.log"
        print("   installing \(missing.joined(separator: " and ")): \(RuntimePackages.installCommand(missing)) (output in \(log))")
        fflush(nil)
        try RuntimePackages.install(missing, logPath: log)
    }

    /// Step 3: the synthetic extracts of `--persons` and `--seed`, made once.
    private func syntheticExtracts() async throws -> String {
        step("3. Synthetic raw extracts (NHS numbers in, as a data provider would send them)")
        let extracts = "\(options.stateDir)/extracts/persons-\(persons)-seed-\(seed)"
        if FileManager.default.fileExists(atPath: extracts) {
            // Extracts written before they were owner-only (0644 in 0755) are made so: they hold NHS numbers.
            try SyntheticExtracts.restrictPermissions(of: "\(options.stateDir)/extracts")
            try SyntheticExtracts.restrictPermissions(of: extracts)
            print("   reusing \(extracts)")
        } else {
            let localAuthorities = try LocalAuthority.load(from: options.policy.localAuthoritiesPath)
            let summary = try await withProgress("   synth", unit: "persons", total: persons) { progress in
                try SyntheticExtracts.write(persons: persons, seed: seed, to: extracts, badRowRate: 0.002, localAuthorities: localAuthorities, progress: progress)
            }
            print("   wrote \(summary.rowsWritten) rows in \(summary.files) files to \(extracts) (0.2% deliberately broken)")
        }
        return extracts
    }

    /// The pseudonymisation and perturbation keys in the state directory, made on first use.
    private func keys() throws -> (pseudonymisation: PseudonymisationKey, perturbation: PerturbationKey) {
        let keyFile = "\(options.stateDir)/pseudonymisation.key", perturbationKeyFile = "\(options.stateDir)/perturbation.key"
        if !FileManager.default.fileExists(atPath: keyFile) {
            try PseudonymisationKey.generate().write(to: keyFile)
            print("   made a pseudonymisation key: \(keyFile) (outside the database; never commit it)")
        }
        if !FileManager.default.fileExists(atPath: perturbationKeyFile) {
            try PerturbationKey.generate().write(to: perturbationKeyFile)
            print("   made a perturbation key: \(perturbationKeyFile) (record keys for the cell-key method; kept like the pseudonymisation key)")
        }
        return (try PseudonymisationKey.read(from: keyFile), try PerturbationKey.read(from: perturbationKeyFile))
    }

    /// The demo operator, from the saved operator token; on a fresh broker the token is bootstrapped and saved first.
    private func operatorCaller(_ broker: Broker) async throws -> Caller {
        if let saved = TokenOptions.saved(at: options.stateDir + "/operator.token"), let caller = try? await broker.tokens.authenticate(token: saved) {
            return caller
        }
        let issued = try await broker.tokens.bootstrap(operator: Self.demoOperator, expires: try options.day().adding(days: 30))
        try saveToken(issued.token, stateDir: options.stateDir)
        print("   bootstrapped the first operator token (\(issued.id)), saved to \(options.stateDir)/operator.token (mode 0600)")
        return try await broker.tokens.authenticate(token: issued.token)
    }

    /// Step 6: each example run with a one-day token the operator issues to its researcher.
    private func runExamples(_ broker: Broker, operatorCaller: Caller) async throws {
        for example in Self.examples {
            let parameters = example.parameters.sorted { $0.key < $1.key }.map { "--param \($0.key)=\($0.value)" }.joined(separator: " ")
            print("\n   $ sde-broker query run --project \(example.project) --query \(example.query) \(parameters)   # as \(example.user)")
            let token = try await broker.tokens.issue(operatorCaller, for: example.user, expires: try options.day().adding(days: 1))
            let researcher = try await broker.tokens.authenticate(token: token.token)
            do {
                let table = try await broker.queries.run(researcher, project: example.project, query: example.query, parameters: example.parameters)
                let lines = table.document.text.split(separator: "\n", omittingEmptySubsequences: false)
                let shown = lines.count > 24 ? lines.prefix(12) + ["... \(lines.count - 14) more rows ..."] + lines.suffix(2) : lines[...]
                print(indented(shown.joined(separator: "\n")))
                print("   audit event #\(table.event.sequence), output SHA-256 \(table.event.outputDigest?.hex.prefix(16) ?? "")...")
            } catch let error as ServiceError {
                print("   \(error.code): \(error.message)\n   audit event #\(error.event?.sequence ?? 0)")
            }
        }
    }

    /// Step 7: every release not yet published, as the demo operator.
    private func publishReleases(_ broker: Broker, operatorCaller: Caller) async throws {
        let store = PostgresStore(connections: .direct(try await options.configuration().database, logger: .cli))
        for release in try options.policy.load().releases.keys.sorted() {
            if let stored = try await store.latest(id: release) {
                print("   \(release): version \(stored.version) already published (sha256 \(stored.sha256.prefix(16))...)")
                continue
            }
            do {
                let published = try await withProgress("   publish \(release)") { _ in try await broker.publisher.publish(operatorCaller, release: release) }
                print("   \(release): version \(published.stored.version) published, sha256 \(published.stored.sha256.prefix(16))..., audit event #\(published.event.sequence)")
            } catch let error as ServiceError {
                print("   \(release): \(error.code): \(error.message)")
            }
        }
    }

    /// Step 9: a week's token for researcher r-priya-shah and the curl lines that use it.
    private func printDemoToken(_ configuration: BrokerConfiguration) async throws {
        let token = try await configuration.withBroker(logger: .cli) { broker in
            try await broker.tokens.issue(try await operatorCaller(broker), for: "r-priya-shah", expires: try options.day().adding(days: 7))
        }
        let base = "http://127.0.0.1:\(port)"
        print("""
               a demo token for researcher r-priya-shah (valid 7 days; only its hash is stored):
               export SDE_TOKEN=\(token.token)
               curl -s -H "Authorization: Bearer $SDE_TOKEN" \(base)/v1/me
               curl -s -H "Authorization: Bearer $SDE_TOKEN" -H 'Content-Type: application/json' \\
                 -d '{"parameters": {"from": "2023Q2", "to": "2024Q1"}}' \\
                 \(base)/v1/projects/P2025-002/queries/requests-by-la-quarter/runs
               or: swift run sde-broker query run --server \(base) --project P2025-002 --query requests-by-la-quarter --param from=2023Q2
               or in a browser: \(base)/console (sign in with the token above)
            """)
    }

    private func step(_ title: String) { print("\n== \(title)") }

    private func indented(_ text: String) -> String { text.split(separator: "\n", omittingEmptySubsequences: false).map { "   " + $0 }.joined(separator: "\n") }
}
