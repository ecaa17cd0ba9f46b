import ArgumentParser
import Foundation
import SDEAudit
import SDECommon
import SDEPolicy
import SDEPolicyFiles
import SDEService
import SDEStore

/// `sde-broker release publish|list`.
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Publish regulator releases (Policies/releases.yaml) and list the published versions.",
        subcommands: [Publish.self, List.self]
    )

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute a release under its profile (differencing ledger included), audit it, then store it as a new immutable version.")
        @Argument(help: "The release id, as in Policies/releases.yaml.") var release: String
        @Option(help: "The operator's user id.") var user: String
        @Option(help: "The policy directory.") var policyDir = "Policies"
        @Option(help: "Evaluate dates on this day (YYYY-MM-DD) instead of today.") var today: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let policy = try PolicyDirectory.load(at: policyDir, reference: try referenceCodes(csvAt: database.sqlDir + "/local_authorities.csv"))
            let day = try PolicyCommand.day(today)
            let config = try await database.config(logger: .cli)
            let outcome = try await withAuditTrail(database) { trail in
                try await ReleasePublisher(policy: policy, database: config, trail: trail, logger: .cli).publish(release: release, user: user, today: day)
            }
            switch outcome {
            case .published(let stored, event: let event):
                print("published \(stored.id) version \(stored.version): \(stored.json.count) bytes, sha256 \(stored.sha256)")
                print("audit event #\(event.sequence) \(event.hash.hex)")
            case .denied(let denial, event: let event):
                FileHandle.standardError.write(Data("denied (\(denial.reason.rawValue)): \(denial.message)\naudit event #\(event.sequence)\n".utf8))
                throw ExitCode(2)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the latest published version of every release (id, version, time, SHA-256).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let releases = try await DatabaseSession.with(try await database.config(logger: .cli), logger: .cli) { db in try await ReleaseStore.list(on: db) }
            if releases.isEmpty { print("no releases published") }
            let time = ISO8601DateFormatter()
            for release in releases {
                print("\(release.id)  version \(release.version)  \(time.string(from: release.published))  sha256 \(release.sha256)")
            }
        }
    }
}
