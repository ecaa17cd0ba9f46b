import ArgumentParser
import Foundation
import SDEAudit
import SDEServer
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
            abstract: "Compute a release under its profile (differencing ledger included), audit it, then store it as a new immutable version (operators, with their token).")
        @Argument(help: "The release id, as in Policies/releases.yaml.") var release: String
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            let published = try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in
                    let caller = try await token.caller(broker, stateDir: options.stateDir)
                    return try await withProgress("release publish \(release)") { _ in try await broker.publisher.publish(caller, release: release) }
                }
            }
            print("published \(published.stored.id) version \(published.stored.version): \(published.stored.json.count) bytes, sha256 \(published.stored.sha256)")
            print("audit event #\(published.event.sequence) \(published.event.hash.hex)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the latest published version of every release: id, version, time, SHA-256 (an operator tool; no table data).")
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            let configuration = try await options.configuration()
            let releases = try await PostgresStore(connections: .direct(configuration.database, logger: .cli)).list() as [ReleaseSummary]
            if releases.isEmpty { print("no releases published") }
            let time = ISO8601DateFormatter()
            for release in releases {
                print("\(release.id)  version \(release.version)  \(time.string(from: release.published))  sha256 \(release.sha256)")
            }
        }
    }
}
