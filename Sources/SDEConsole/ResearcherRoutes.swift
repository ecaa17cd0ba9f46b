import Foundation
import Hummingbird
import SDEAudit
import SDECommon
import SDEHTTP
import SDEPolicy
import SDEService

extension WebConsole {
    /// `GET /console` (who the user is; a researcher's projects and whether each is usable today),
    /// `GET /console/projects/{project}` (its vetted queries, each with a form built from its parameters) and
    /// `POST /console/projects/{project}/queries/{query}/runs` (the protected table as a page, or as the API's CSV or
    /// JSON bytes to download).
    func addResearcherRoutes(to console: RouterGroup<BrokerContext>) {
        console.get(
            "",
            use: signedIn(.identityRead) { _, _, visit in
                let identity = try await broker.identity.identity(visit.caller)
                let view = HomeView(
                    organisation: identity.user.organisation, roles: identity.user.roles.sorted().map(\.rawValue).joined(separator: ", "),
                    projects: identity.projects.map { ProjectRow(project: $0.project, closed: $0.decision.denial) },
                    releases: identity.releases.count)
                return pages.render("home", title: "Your account", nav: visit.nav, view)
            })
        console.get(
            "projects/{project}",
            use: signedIn(.projectRead) { _, context, visit in
                let (project, policy, _) = try await broker.identity.project(visit.caller, id: try context.parameters.require("project"))
                let queries = project.queries.compactMap { policy.queries[$0] }.map { query in
                    QueryForm(
                        id: query.id, title: query.title, description: query.description, action: Paths.run(project.id, query.id),
                        parameters: query.parameters.map {
                            ParameterField(query: query.id, parameter: $0, domain: policy.domain(of: $0, in: query, window: project.dataWindow))
                        },
                        csrf: visit.session.csrf)
                }
                return pages.render(
                    "project", title: "Project \(project.id)", nav: visit.nav,
                    ProjectView(project: ProjectRow(project: project, closed: nil), queries: queries))
            })
        console.post(
            "projects/{project}/queries/{query}/runs",
            use: signedIn(.queryRun, refusedAs: .queryDenied) { _, context, visit in
                let project = try context.parameters.require("project"), query = try context.parameters.require("query")
                let format = visit.fields["format"] ?? "html"
                guard ["html", "csv", "json"].contains(format) else { throw ConsoleError.badForm }
                let parameters = visit.fields.given(excluding: ["csrf", "format"])
                let table = try await broker.queries.run(visit.caller, project: project, query: query, parameters: parameters)
                let name = "\(table.document.query)-\(table.event.sequence)"
                switch format {
                case "csv": return .download(Array(table.document.csv.utf8), contentType: "text/csv; charset=utf-8", filename: name + ".csv")
                case "json": return .download(table.jsonWithAudit, contentType: "application/json; charset=utf-8", filename: name + ".json")
                default:
                    let view = RunView(
                        project: project, query: query, table: try TableView(document: table.jsonWithAudit), sequence: table.event.sequence,
                        action: Paths.run(project, query),
                        parameters: parameters.sorted { $0.key < $1.key }.map { Field(name: $0.key, value: $0.value) },
                        csrf: visit.session.csrf)
                    return pages.render("table", title: "\(query) for \(project)", nav: visit.nav, view)
                }
            })
    }
}

struct HomeView {
    let organisation: String
    let roles: String
    let projects: [ProjectRow]
    let releases: Int
}

/// A project as a row: whether it is usable today and, if not, why.
struct ProjectRow {
    let id: String
    let title: String
    let status: String
    let start: String
    let expiry: String
    let window: String
    let link: String
    let usable: Bool
    let reason: String?

    init(project: Project, closed: AccessDenial?) {
        id = project.id
        title = project.title
        status = project.status.rawValue
        start = project.start.description
        expiry = project.expiry.description
        window = "\(project.dataWindow.from) to \(project.dataWindow.to)"
        link = Paths.project(project.id)
        usable = closed == nil
        reason = closed?.message
    }
}

struct ProjectView {
    let project: ProjectRow
    let queries: [QueryForm]
}

struct QueryForm {
    let id: String
    let title: String
    let description: String
    let action: String
    let parameters: [ParameterField]
    let csrf: String
}

/// A form field for one parameter: a select of its allowed values (a quarter's range, a dimension's codes), with
/// "any" first when it may be left out.
struct ParameterField {
    let id: String
    let name: String
    let description: String
    let required: Bool
    let options: [Option]

    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    init(query: String, parameter: QueryParameter, domain: ParameterDomain) {
        id = "\(query)-\(parameter.name)"
        name = parameter.name
        description = parameter.description
        required = parameter.required
        let values: [String]
        switch domain {
        case .quarters(let range): values = range.quarters.map(\.description)
        case .values(let listed): values = listed
        }
        var options = values.map { Option(value: $0, label: $0, selected: false) }
        if !parameter.required {
            options.insert(Option(value: "", label: parameter.kind.isQuarter ? "whole data window" : "any", selected: true), at: 0)
        }
        self.options = options
    }
}

struct Field {
    let name: String
    let value: String
}

struct RunView {
    let project: String
    let query: String
    let table: TableView
    let sequence: Int64
    let action: String
    let parameters: [Field]
    let csrf: String
}

extension ParameterKind {
    var isQuarter: Bool {
        if case .quarter = self { return true }
        return false
    }
}
