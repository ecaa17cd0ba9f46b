import ArgumentParser
import Foundation
import Logging
import SDEAudit
import SDEExtracts
import SDEIngest
import SDEStore

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
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let summary = try synthesise(persons: persons, seed: seed, out: out, badRowRate: badRowRate, sqlDir: database.sqlDir)
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
            abstract: "Validate, pseudonymise and load a directory of extracts; quarantine bad rows with their reason.")
        @Option(help: "The pseudonymisation key file.") var keyFile: String
        @Option(help: "The perturbation key file (record keys for the cell-key method); a key of its own, never the pseudonymisation key.")
        var perturbationKeyFile: String
        @Option(help: "Where to write quarantined rows (default: <state-dir>/quarantine/ingest-<time>.csv).") var quarantine: String?
        @Argument(help: "Directory holding social_care_<LA>.csv and hospital_spells.csv.") var directory: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let report = try await ingest(
                keyFile: keyFile, perturbationKeyFile: perturbationKeyFile, directory: directory, quarantine: quarantine, database: database)
            print(report.summary)
        }
    }
}

/// Writes synthetic extracts with the repository's local authority list.
func synthesise(persons: Int, seed: UInt64, out: String, badRowRate: Double, sqlDir: String) throws -> SyntheticExtracts.Summary {
    let authorities = try LocalAuthority.load(from: sqlDir + "/local_authorities.csv")
    return try SyntheticExtracts.write(persons: persons, seed: seed, to: out, badRowRate: badRowRate, localAuthorities: authorities)
}

/// Runs a whole ingest: keys, local authorities, database, then the files.
func ingest(keyFile: String, perturbationKeyFile: String, directory: String, quarantine: String?, database: DatabaseOptions) async throws
    -> Ingestor.Report
{
    let key = try PseudonymisationKey.read(from: keyFile)
    let perturbationKey = try PerturbationKey.read(from: perturbationKeyFile)
    let authorities = try LocalAuthority.load(from: database.sqlDir + "/local_authorities.csv")
    let quarantinePath = try quarantine ?? defaultQuarantinePath(stateDir: database.stateDir)
    let config = try await database.config(logger: .cli)
    let report = try await DatabaseSession.with(config, logger: .cli) { db in
        guard try await database.migrator.pending(db).isEmpty else {
            throw ValidationError("the database schema is not up to date: run `sde-broker db migrate` first")
        }
        let ingestor = Ingestor(
            pseudonymiser: Pseudonymiser(key: key), recordKeys: RecordKeys(key: perturbationKey), localAuthorityCodes: Set(authorities.map(\.code)),
            quarantinePath: quarantinePath)
        return try await ingestor.ingest(directory: directory, db: db)
    }
    // The operator's load is accounted for like every other access.
    let trail = try await database.auditTrail(logger: .cli)
    try await trail.record(
        AuditEventDraft(
            actor: operatorName, role: "operator", action: .dataIngested, target: "extracts",
            parameters: [
                "files_loaded": String(report.files.filter { !$0.alreadyIngested }.count), "rows_read": String(report.rowsRead),
                "rows_loaded": String(report.rowsLoaded), "rows_quarantined": String(report.rowsQuarantined),
                "record_keys_backfilled": String(report.recordKeysBackfilled),
            ],
            outcome: .allowed))
    await trail.close()
    return report
}

private func defaultQuarantinePath(stateDir: String) throws -> String {
    let dir = stateDir + "/quarantine"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
    return "\(dir)/ingest-\(stamp).csv"
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
