import Foundation
import Hummingbird
import SDEAudit
import SDECommon
import SDEHTTP
import SDEService

extension WebConsole {
    /// For IG officers: `GET /console/audit` (the trail, filtered by actor, project, action, outcome and time, the most
    /// recent events first), `GET /console/audit.csv` (the same search as the API's CSV export) and
    /// `GET /console/projects` (every project and its state today).
    func addOfficerRoutes(to console: RouterGroup<BrokerContext>) {
        console.get(
            "audit",
            use: signedIn(.auditRead) { _, _, visit in
                let fields = visit.fields.given(excluding: [])
                let search = try AuditSearch { fields[$0] }
                let (_, output) = try await broker.audit.search(
                    visit.caller, filter: search.filter, limit: min(search.limit, Self.auditPageEvents), format: .json)
                let events = String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { line in
                    try? AuditJSONL.decode(String(line.hasSuffix(",") ? line.dropLast() : line))
                }
                let query = fields.sorted { $0.key < $1.key }.map {
                    "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: Self.queryValueCharacters) ?? "")"
                }
                let view = AuditView(
                    filters: AuditView.filters.map { FilterField(name: $0.name, value: fields[$0.name] ?? "", hint: $0.hint) },
                    events: events.reversed().map(AuditRow.init),
                    limit: Self.auditPageEvents, csv: Paths.audit + ".csv" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
                return pages.render("audit", title: "Audit trail", nav: visit.nav, view)
            })
        console.get(
            "audit.csv",
            use: signedIn(.auditRead) { _, _, visit in
                let fields = visit.fields.given(excluding: [])
                let search = try AuditSearch { fields[$0] }
                let (event, output) = try await broker.audit.search(visit.caller, filter: search.filter, limit: search.limit, format: .csv)
                return .download(output, contentType: "text/csv; charset=utf-8", filename: "audit-\(event.sequence).csv")
            })
        console.get(
            "projects",
            use: signedIn(.projectList) { _, _, visit in
                let overview = try await broker.identity.allProjects(visit.caller)
                let view = ProjectsView(
                    today: overview.today.description, projects: overview.projects.map { ProjectRow(project: $0.project, closed: $0.closed) })
                return pages.render("projects", title: "Projects", nav: visit.nav, view)
            })
    }

    /// What a query-string value keeps unencoded (RFC 3986's unreserved characters).
    static let queryValueCharacters = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The most events the audit page shows (the CSV export takes the API's limit).
    static let auditPageEvents = 200
}

struct AuditView {
    static let filters = [
        ("actor", "A user id, e.g. r-priya-shah, or anonymous."), ("project", "A project id, e.g. P2025-002."),
        ("action", "e.g. query.run, query.denied, auth.failed, release.read."), ("outcome", "allowed, denied or error."),
        ("since", "From this date or time (YYYY-MM-DD or RFC 3339), inclusive."), ("until", "Before this date or time, exclusive."),
    ].map { (name: $0.0, hint: $0.1) }
    let filters: [FilterField]
    let events: [AuditRow]
    let limit: Int
    let csv: String
}

struct FilterField {
    let name: String
    let value: String
    let hint: String
}

/// One audit event as a row: who, what, the outcome and why; cells released and suppressed (counts only).
struct AuditRow {
    let sequence: Int64
    let time: String
    let actor: String
    let role: String
    let project: String
    let action: String
    let target: String
    let parameters: String
    let outcome: String
    let denied: Bool
    let reason: String
    let cells: String

    init(_ event: AuditEvent) {
        sequence = event.sequence
        time = event.time.description
        actor = event.actor
        role = event.role ?? ""
        project = event.project ?? ""
        action = event.action.rawValue
        target = event.target ?? ""
        parameters = event.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        outcome = event.outcome.rawValue
        denied = event.outcome != .allowed
        reason = event.reason ?? ""
        cells =
            event.cells.released + event.cells.suppressedTotal == 0
            ? "" : "\(event.cells.released) released, \(event.cells.suppressedTotal) suppressed"
    }
}

struct ProjectsView {
    let today: String
    let projects: [ProjectRow]
}
