public import ArgumentParser
import Foundation
import SDEAudit
import SDEServer
import SDEService
import SDEStore

/// `sde-broker audit verify|witness|export`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the tamper-evident audit trail, keep a witness's copy of its head, and export it for review.",
        subcommands: [Verify.self, Witness.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check every hash, the sequence, signed checkpoints and the gaps between them, that both stores agree, and that the trail extends checkpoints held elsewhere (an operator or auditor tool)."
        )
        @Option(
            help: ArgumentHelp(
                "A checkpoint held outside the trail (a witness's checkpoint file, a release's SDE-Audit-Checkpoint) that the trail must extend; repeatable.",
                valueName: "checkpoint-file"))
        var against: [String] = []
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            let configuration = try await options.configuration()
            let result = try await withProgress("audit verify", unit: "events") { progress in
                try await configuration.verifyAuditTrail(against: against, progress: progress, logger: .cli)
            }
            print(result.summary)
            guard result.isIntact else { throw ExitCode.failure }
        }
    }

    struct Witness: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "As a witness (the IG team): fetch the trail's latest signed checkpoint, check it extends the one kept in --dir, and keep it.")
        @Option(help: ArgumentHelp("The witness's directory (its pinned key and the checkpoint it holds).", valueName: "dir")) var dir: String
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            do {
                print(try await options.configuration().witnessAuditTrail(directory: dir, logger: .cli))
            } catch let error as AuditError {
                FileHandle.standardError.write(Data("REFUSED (\(error.code)): \(error.message)\nthe witness keeps the checkpoint it held\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print audit events for the IG team's review, filtered (IG officers, with their token; the export is audited).")
        @Option(help: "Only this project.") var project: String?
        @Option(help: "Only this actor (user id).") var actor: String?
        @Option(help: "From this time (inclusive): a date or an RFC 3339 time.") var since: String?
        @Option(help: "Until this time (exclusive).") var until: String?
        @Option(help: "The most events to print (the most recent).") var limit: Int = 1_000_000
        @Option(help: "json or csv.") var format: AuditExportFormat = .json
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            func time(_ text: String?, _ name: String) throws -> AuditTimestamp? {
                guard let text else { return nil }
                guard let time = AuditTimestamp(parsing: text) else { throw ValidationError("--\(name) '\(text)' is not a date or time") }
                return time
            }
            guard limit > 0 else { throw ValidationError("--limit must be 1 or more") }
            let filter = AuditFilter(project: project, actor: actor, since: try time(since, "since"), until: try time(until, "until"))
            let output = try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in
                    let caller = try await token.caller(broker, stateDir: options.stateDir)
                    return try await broker.audit.search(caller, filter: filter, limit: limit, format: format).output
                }
            }
            print(String(decoding: output, as: UTF8.self), terminator: "")
        }
    }
}

extension AuditExportFormat: ExpressibleByArgument {}

extension AuditVerification {
    /// What `audit verify` prints.
    var summary: String {
        var lines: [String] = []
        if let trustedKey { lines.append("key:      \(trustedKey.key.noteVerifier) (\(trustedKey.source))") }
        lines += ["database: \(database)", "mirror:   \(mirror)"]
        lines.append(disagreement.map { "stores disagree: \($0)" } ?? "stores agree event for event")
        lines += problems.map { "problem:  \($0)" }
        lines.append(isIntact ? "audit trail intact" : "AUDIT TRAIL DAMAGED")
        return lines.joined(separator: "\n")
    }
}
