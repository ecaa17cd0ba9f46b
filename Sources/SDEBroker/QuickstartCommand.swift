import ArgumentParser
import Foundation
import Logging
import SDEAudit
import SDECommon
import SDEExtracts
import SDEPolicy
import SDEPolicyFiles
import SDEService
import SDEIngest
import SDEStore

/// `sde-broker quickstart`: the whole path on a fresh clone, on the embedded PostgreSQL.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Start the embedded PostgreSQL, migrate, synthesise and ingest extracts, and show what was loaded."
    )

    @Option(help: "Number of synthetic people.") var persons: Int = 20_000
    @Option(help: "Random seed of the synthetic extracts.") var seed: UInt64 = 2026
    @Option(help: "The policy directory.") var policyDir = "Policies"
    @Flag(help: "After the demo, issue a demo token, print a curl command, and serve the HTTP API until interrupted.") var serve = false
    @Option(help: "The port --serve listens on (loopback).") var port = 8080
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = Logger.cli
        step("1. DatabaseSession")
        let config = try await database.config(logger: logger, start: true)
        print("   PostgreSQL at \(config.redacted)\(database.embedded == nil ? " (DATABASE_URL)" : " (embedded, in \(database.stateDir))")")
        let report = try await DatabaseSession.with(config, logger: logger) { try await database.migrator.migrate($0) }
        print("   schema: \(report.applied.count) files applied, \(report.unchanged) already up to date")

        step("2. Policies: who may see what (Policies/, signed by the IG team)")
        let reference = try referenceCodes(csvAt: database.sqlDir + "/local_authorities.csv")
        let policy = try PolicyDirectory.load(at: policyDir, reference: reference)
        let today = CivilDate(dayNumber: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)))
        print(policy.summary(now: today).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

        step("3. Synthetic raw extracts (NHS numbers in, as a data provider would send them)")
        let extracts = "\(database.stateDir)/extracts/persons-\(persons)-seed-\(seed)"
        if FileManager.default.fileExists(atPath: extracts) {
            print("   reusing \(extracts)")
        } else {
            let summary = try synthesise(persons: persons, seed: seed, out: extracts, badRowRate: 0.002, sqlDir: database.sqlDir)
            print("   wrote \(summary.rowsWritten) rows in \(summary.files) files to \(extracts) (0.2% deliberately broken)")
        }

        step("4. Pseudonymising ingest")
        let keyFile = "\(database.stateDir)/pseudonymisation.key"
        if !FileManager.default.fileExists(atPath: keyFile) {
            try PseudonymisationKey.generate().write(to: keyFile)
            print("   made a pseudonymisation key: \(keyFile) (outside the database; never commit it)")
        }
        let perturbationKeyFile = "\(database.stateDir)/perturbation.key"
        if !FileManager.default.fileExists(atPath: perturbationKeyFile) {
            try PerturbationKey.generate().write(to: perturbationKeyFile)
            print("   made a perturbation key: \(perturbationKeyFile) (record keys for the cell-key method; kept like the pseudonymisation key)")
        }
        let ingested = try await ingest(
            keyFile: keyFile, perturbationKeyFile: perturbationKeyFile, directory: extracts, quarantine: nil, database: database)
        print(ingested.summary.split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

        step("5. What the database now holds")
        try await DatabaseSession.with(config, logger: logger) { db in
            for line in try await LoadedData.describe(db) { print("   " + line) }
        }

        step("6. A researcher runs vetted queries (access decided, cells protected, audited before release)")
        let examples: [(user: String, project: String, query: String, parameters: [String: String])] = [
            ("r-amara-bello", "P2025-003", "services-by-type-quarter", ["from": "2023Q2", "to": "2024Q1"]),
            ("r-amara-bello", "P2025-003", "home-care-cost-by-support-reason", ["from": "2023Q2", "to": "2024Q1"]),
            ("r-tom-okafor", "P2025-002", "requests-by-la-quarter", ["from": "2024Q1", "to": "2024Q1"]),
        ]
        // One policy set (loaded in step 2) and one audit trail for all the examples.
        try await withQueryRunner(policy: policy, database: database) { runner in
            for example in examples {
                let parameters = example.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                print("\n   $ sde-broker query run --user \(example.user) --project \(example.project) --query \(example.query) \(parameters)")
                let outcome = try await runner.run(
                    user: example.user, project: example.project, query: example.query, parameters: example.parameters, today: today)
                switch outcome {
                case .released(let document, _, event: let event):
                    let lines = document.text.split(separator: "\n", omittingEmptySubsequences: false)
                    let shown = lines.count > 24 ? lines.prefix(12) + ["... \(lines.count - 14) more rows ..."] + lines.suffix(2) : lines[...]
                    print(shown.map { "   " + $0 }.joined(separator: "\n"))
                    print("   audit event #\(event.sequence), output SHA-256 \(event.outputDigest?.hex.prefix(16) ?? "")...")
                case .denied(let denial, event: let event):
                    print("   denied (\(denial.reason.rawValue)): \(denial.message)\n   audit event #\(event.sequence)")
                }
            }
        }

        step("7. Regulator releases (computed under the publication profile, audited, stored immutably)")
        try await withAuditTrail(database) { trail in
            let publisher = ReleasePublisher(policy: policy, database: config, trail: trail, logger: logger)
            for release in policy.releases.keys.sorted() {
                if let stored = try await DatabaseSession.with(config, logger: logger, { db in try await ReleaseStore.latest(id: release, on: db) }) {
                    print("   \(release): version \(stored.version) already published (sha256 \(stored.sha256.prefix(16))...)")
                    continue
                }
                switch try await publisher.publish(release: release, user: "op-dan-wright", today: today) {
                case .published(let stored, event: let event):
                    print("   \(release): version \(stored.version) published, sha256 \(stored.sha256.prefix(16))..., audit event #\(event.sequence)")
                case .denied(let denial, event: _):
                    print("   \(release): denied (\(denial.reason.rawValue))")
                }
            }
        }

        step("8. The audit trail (every access, hash-chained, in the database and in \(database.auditDir)/)")
        let verification = try await verifyAuditTrail(database: database, publicKey: nil)
        print(verification.summary.split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        guard serve else {
            print("\nNext: `swift run sde-broker quickstart --serve` for the HTTP API, `swift run sde-broker db status`, or `db stop` when done.")
            return
        }

        step("9. The HTTP API (Ctrl-C stops it)")
        let token = try await issueToken(user: "r-priya-shah", expires: today.adding(days: 7), policy: policy, database: database)
        let base = "http://127.0.0.1:\(port)"
        print("""
               a demo token for researcher r-priya-shah (valid 7 days; only its hash is stored):
               export SDE_TOKEN=\(token.token)
               curl -s -H "Authorization: Bearer $SDE_TOKEN" \(base)/v1/me
               curl -s -H "Authorization: Bearer $SDE_TOKEN" -H 'Content-Type: application/json' \\
                 -d '{"parameters": {"from": "2023Q2", "to": "2024Q1"}}' \\
                 \(base)/v1/projects/P2025-002/queries/requests-by-la-quarter/runs
            """)
        try await serveAPI(host: "127.0.0.1", port: port, policyDir: policyDir, database: database, start: false) { port in
            print("   serving on http://127.0.0.1:\(port) (openapi.yaml describes every route)")
            fflush(nil)  // the token and the curl lines must show even when standard output is a pipe or a file
        }
    }

    private func step(_ title: String) { print("\n== \(title)") }
}
