import ArgumentParser
import Foundation
import SDEExtracts
import SDEIngest
import SDEServer

/// `sde-broker data synth|keygen|ingest`.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Make synthetic extracts, make a pseudonymisation or perturbation key, and ingest extracts.",
        subcommands: [Synth.self, Keygen.self, Ingest.self]
    )

    struct Synth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write synthetic raw extracts (one social care CSV per local authority and a hospital CSV), deterministic per seed.")
        @Option(help: "Number of people.") var persons: Int = 20_000
        @Option(help: "Random seed: the same seed gives the same bytes.") var seed: UInt64 = 1
        @Option(help: "Output directory (created if missing).") var out: String
        @Option(help: "Share of rows deliberately broken, 0 to 1, to exercise ingest's quarantine.") var badRowRate: Double = 0
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            let localAuthorities = try LocalAuthority.load(from: options.policy.localAuthoritiesPath)
            let summary = try await withProgress("data synth", unit: "persons", total: persons) { progress in
                try SyntheticExtracts.write(persons: persons, seed: seed, to: out, badRowRate: badRowRate, localAuthorities: localAuthorities, progress: progress)
            }
            print("wrote \(summary.rowsWritten) rows in \(summary.files) files to \(out)")
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a pseudonymisation or perturbation key (32 random bytes, hex, mode 0600). Keep it outside the database and out of git.")
        @Option(help: "Key file to create (never overwritten).") var out: String

        func run() async throws {
            try PseudonymisationKey.generate().write(to: out)
            print("wrote a new key to \(out)")
        }
    }

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate, pseudonymise and load a directory of extracts; quarantine bad rows with their reason (operators, with their token).")
        @Option(help: "The pseudonymisation key file.") var keyFile: String
        @Option(help: "The perturbation key file (record keys for the cell-key method); a key of its own, never the pseudonymisation key.")
        var perturbationKeyFile: String
        @Option(help: "Where to write quarantined rows (default: <state-dir>/quarantine/ingest-<time>.csv).") var quarantine: String?
        @Argument(help: "Directory holding social_care_<LA>.csv and hospital_spells.csv.") var directory: String
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            let keys = (try PseudonymisationKey.read(from: keyFile), try PerturbationKey.read(from: perturbationKeyFile))
            let configuration = try await options.configuration()
            let report = try await reportingRefusals {
                try await configuration.withBroker(logger: .cli) { broker in
                    let caller = try await token.caller(broker, stateDir: options.stateDir)
                    return try await withProgress("data ingest", unit: "rows") { progress in
                        try await configuration.ingest(
                            caller, directory: directory, keys: keys, quarantine: quarantine, broker: broker, progress: progress, logger: .cli)
                    }
                }
            }
            print(report.summary)
        }
    }
}

extension Ingestor.Report {
    /// What an operator reads after an ingest.
    var summary: String {
        let loadedFiles = files.filter { !$0.alreadyIngested }
        var lines = ["files: \(loadedFiles.count) loaded, \(files.count - loadedFiles.count) already ingested before (skipped)"]
        lines.append("rows read \(rowsRead) = rows loaded \(rowsLoaded) + rows quarantined \(rowsQuarantined)")
        if recordKeysBackfilled > 0 { lines.append("record keys given to \(recordKeysBackfilled) persons loaded before record keys existed") }
        if let quarantinePath { lines.append("quarantined rows and reasons: \(quarantinePath) (holds raw rows: keep it safe, delete it when done)") }
        return lines.joined(separator: "\n")
    }
}
