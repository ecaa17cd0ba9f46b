import ArgumentParser
import Foundation
import Logging
import SDEAudit
import SDEStore

/// `sde-broker audit verify|export`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the tamper-evident audit trail and export it for review.",
        subcommands: [Verify.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every hash, the sequence, checkpoint signatures, and that the database and the JSONL mirror agree.")
        @Option(help: "The broker's public key (default: <state-dir>/audit-signing-key.pub.pem).") var publicKey: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let result = try await verifyAuditTrail(database: database, publicKey: publicKey)
            print(result.summary)
            guard result.isIntact else { throw ExitCode.failure }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print audit events for the IG team's review, filtered.")
        @Option(help: "Only this project.") var project: String?
        @Option(help: "Only this actor (user id).") var actor: String?
        @Option(help: "From this time (inclusive): a date or an RFC 3339 time.") var since: String?
        @Option(help: "Until this time (exclusive).") var until: String?
        @Option(help: "json or csv.") var format: String = "json"
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            guard let format = AuditExportFormat(rawValue: format) else { throw ValidationError("--format must be json or csv") }
            func time(_ text: String?, _ name: String) throws -> AuditTimestamp? {
                guard let text else { return nil }
                guard let time = AuditTimestamp(parsing: text) else { throw ValidationError("--\(name) '\(text)' is not a date or time") }
                return time
            }
            let filter = AuditFilter(project: project, actor: actor, since: try time(since, "since"), until: try time(until, "until"))
            let config = try await database.config(logger: .cli)
            try await DatabaseSession.with(config, logger: .cli) { db in
                var exporter = AuditExporter(format: format)
                print(exporter.header, terminator: "")
                try await AuditEvents.forEach(in: db) { event in
                    if filter.matches(event) { print(exporter.row(event), terminator: "") }
                }
                print(exporter.footer, terminator: "")
            }
        }
    }
}

/// Verifies both audit stores with the broker's public key.
func verifyAuditTrail(database: DatabaseOptions, publicKey: String?) async throws -> AuditVerification {
    let key = try AuditKeyFiles.publicKey(at: publicKey ?? AuditKeyFiles(directory: database.stateDir).publicKeyPath)
    let config = try await database.config(logger: .cli)
    return try await DatabaseSession.with(config, logger: .cli) { db in
        try await AuditVerification.run(db, mirror: AuditMirror(directory: database.auditDir), trustedKeys: [key])
    }
}

extension AuditVerification {
    /// What `audit verify` prints.
    var summary: String {
        var lines = ["database: \(database)", "mirror:   \(mirror)"]
        lines.append(disagreement.map { "stores disagree: \($0)" } ?? "stores agree event for event")
        lines.append(isIntact ? "audit trail intact" : "AUDIT TRAIL DAMAGED")
        return lines.joined(separator: "\n")
    }
}
