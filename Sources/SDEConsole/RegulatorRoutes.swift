import Foundation
import Hummingbird
import SDEAudit
import SDEHTTP
import SDEPolicy
import SDEService

extension WebConsole {
    /// For regulators: `GET /console/releases` (the releases published to their organisation, with the latest version),
    /// `GET /console/releases/{release}[?version=N]` (a version's table, chart, SHA-256 and the signed audit checkpoint it
    /// was published under, with links to every version) and `GET /console/releases/{release}/csv[?version=N]` (the
    /// API's CSV bytes).
    func addRegulatorRoutes(to console: RouterGroup<BrokerContext>) {
        console.get(
            "releases",
            use: signedIn(.releaseList) { _, _, visit in
                let listing = try await broker.releases.list(visit.caller)
                let rows = listing.releases.map { release, latest in
                    ReleaseRow(
                        id: release.id, title: release.title, link: Paths.release(release.id), version: latest?.version,
                        published: latest.map { BrokerAPI.timestamp($0.published) }, sha256: latest?.sha256)
                }
                return pages.render("releases", title: "Releases", nav: visit.nav, ReleasesView(releases: rows))
            })
        console.get(
            "releases/{release}",
            use: signedIn(.releaseRead) { _, context, visit in
                let read = try await broker.releases.read(
                    visit.caller, release: try context.parameters.require("release"), version: try Self.version(visit.fields), format: .json)
                let stored = read.stored
                let table = try TableView(document: stored.json)
                let view = ReleaseView(
                    id: stored.id, version: stored.version, published: BrokerAPI.timestamp(stored.published), sha256: stored.sha256,
                    checkpoint: stored.auditCheckpoint, auditSequence: stored.auditSequence,
                    versions: (1...stored.version).reversed().map {
                        VersionLink(number: $0, link: Paths.release(stored.id) + "?version=\($0)", current: $0 == stored.version)
                    },
                    csv: Paths.release(stored.id) + "/csv?version=\(stored.version)", table: table, chart: BarChart(table))
                return pages.render("release", title: "Release \(stored.id), version \(stored.version)", nav: visit.nav, view)
            })
        console.get(
            "releases/{release}/csv",
            use: signedIn(.releaseRead) { _, context, visit in
                let read = try await broker.releases.read(
                    visit.caller, release: try context.parameters.require("release"), version: try Self.version(visit.fields), format: .csv)
                return .download(read.bytes, contentType: "text/csv; charset=utf-8", filename: "\(read.stored.id)-v\(read.stored.version).csv")
            })
    }

    /// The `version` field, if given: a whole number from 1.
    private static func version(_ fields: FormFields) throws(ConsoleError) -> Int? {
        guard let text = fields["version"], !text.isEmpty else { return nil }
        guard let number = Int(text), number >= 1 else { throw .badForm }
        return number
    }
}

struct ReleasesView {
    let releases: [ReleaseRow]
}

struct ReleaseRow {
    let id: String
    let title: String
    let link: String
    let version: Int?
    let published: String?
    let sha256: String?
}

struct ReleaseView {
    let id: String
    let version: Int
    let published: String
    let sha256: String
    let checkpoint: String?
    let auditSequence: Int64
    let versions: [VersionLink]
    let csv: String
    let table: TableView
    let chart: BarChart?
}

struct VersionLink {
    let number: Int
    let link: String
    let current: Bool
}
