public import SDECommon
import SDEDisclosure

/// The lifecycle state of a project, set by the IG team.
public enum ProjectStatus: String, Sendable, Hashable, CaseIterable {
    /// Submitted, not yet approved: no access.
    case proposed
    /// Approved (and signed): access within its dates.
    case approved
    /// Access withdrawn pending review: no access.
    case suspended
    /// Finished: no access.
    case closed
}

/// An approved purpose for using data: who may run which vetted queries over which datasets, when, and under which
/// disclosure profile.
public struct Project: Sendable, Hashable {
    /// Stable identifier (also the file name, `projects/<id>.yaml`), e.g. `P2025-001`.
    public let id: String
    /// Short title.
    public let title: String
    /// The public-benefit purpose.
    public let purpose: String
    /// The lawful basis for processing (UK GDPR articles, common-law duty of confidentiality).
    public let lawfulBasis: String
    /// Lifecycle state.
    public let status: ProjectStatus
    /// User ids of the researchers on the project.
    public let members: [String]
    /// Dataset ids the project may use.
    public let datasets: [String]
    /// Vetted query ids the project may run.
    public let queries: [String]
    /// The disclosure control applied to its outputs.
    public let disclosure: ProjectDisclosure
    /// First day of access.
    public let start: CivilDate
    /// Last day of access.
    public let expiry: CivilDate
    /// The quarters of data the project may see; quarter parameters must lie inside it.
    public let dataWindow: QuarterRange
    /// The `approval:` block, if any.
    public let approval: Approval?
    /// Whether the approval verifies (computed when the policy set is loaded).
    public let approvalStatus: ApprovalStatus
}

extension PolicyLoader {
    static let projectKeys = [
        "id", "title", "purpose", "lawful_basis", "status", "members", "datasets", "queries", "disclosure", "start", "expiry", "data_window",
        "approval",
    ]

    /// Reads one `projects/<id>.yaml` file against the loaded users, datasets, queries and profiles.
    static func readProject(_ root: PolicyNode, file: String, stem: String, context: PolicyLoader.Context, log: DiagnosticLog) -> Project? {
        guard let fields = FieldReader(root, file: file, what: "a project", allowed: projectKeys, log: log) else { return nil }
        let id = fields.identifier("id")
        if let id, id != stem {
            fields.error(fields.line(of: "id"), "project id '\(id)' must match the file name (\(stem).yaml)")
        }
        let title = fields.string("title")
        let purpose = fields.string("purpose")
        let lawfulBasis = fields.string("lawful_basis")
        var status: ProjectStatus? = nil
        if let node = fields.node("status"), let text = fields.text(node, "status") {
            status = ProjectStatus(rawValue: text)
            if status == nil {
                let known = ProjectStatus.allCases.map(\.rawValue).joined(separator: ", ")
                fields.error(node.line, "unknown status '\(text)'; statuses are \(known)")
            }
        }
        let members = fields.identifierList("members", nonEmpty: true)
        for member in members ?? [] {
            if let user = context.users[member.value] {
                if !user.has(.researcher) { fields.error(member.line, "member '\(member.value)' is not a researcher") }
            } else {
                fields.error(member.line, "unknown user '\(member.value)'")
            }
        }
        let datasetNames = fields.identifierList("datasets", nonEmpty: true)
        for name in datasetNames ?? [] where context.datasets[name.value] == nil {
            fields.error(name.line, "unknown dataset '\(name.value)'")
        }
        let queryNames = fields.identifierList("queries", nonEmpty: true)
        for name in queryNames ?? [] {
            if let query = context.queries[name.value] {
                if let allowed = datasetNames, !allowed.contains(where: { $0.value == query.dataset }) {
                    context.warn(
                        file, name.line,
                        "query '\(name.value)' reads dataset '\(query.dataset)', which this project may not use; it will be refused")
                }
            } else if context.queryFiles.contains(name.value) {
                continue
            } else {
                fields.error(name.line, "unknown vetted query '\(name.value)'")
            }
        }
        let disclosure = readProjectDisclosure(fields, profiles: context.profiles)
        let start = fields.date("start")
        let expiry = fields.date("expiry")
        if let start, let expiry, expiry < start {
            fields.error(fields.line(of: "expiry"), "'expiry' (\(expiry)) is before 'start' (\(start))")
        }
        var window: QuarterRange? = nil
        if let range = fields.mapping("data_window", what: "'data_window'", allowed: ["from", "to"]) {
            window = readQuarterRange(range)
            for name in datasetNames ?? [] {
                guard let window, let dataset = context.datasets[name.value], !dataset.coverage.contains(window) else { continue }
                range.error(range.line, "data window \(window) is outside dataset '\(dataset.id)' coverage \(dataset.coverage)")
            }
        }
        let approval = readApproval(fields)
        guard let id, let title, let purpose, let lawfulBasis, let status, let members, let datasetNames, let queryNames, let disclosure,
            let start, let expiry, start <= expiry, let window
        else { return nil }
        return Project(
            id: id, title: title, purpose: purpose, lawfulBasis: lawfulBasis, status: status, members: members.map(\.value),
            datasets: datasetNames.map(\.value), queries: queryNames.map(\.value), disclosure: disclosure, start: start, expiry: expiry,
            dataWindow: window, approval: approval,
            approvalStatus: ApprovalSignature.status(
                of: approval, content: signedContent(root), users: context.users, keys: context.signingKeys, root: context.rootPath))
    }

    private static func readProjectDisclosure(_ project: FieldReader, profiles: [String: DisclosureProfile]) -> ProjectDisclosure? {
        guard let fields = project.mapping("disclosure", what: "'disclosure'", allowed: ["profile", "overrides"]) else { return nil }
        guard let name = fields.identifier("profile") else { return nil }
        guard let profile = profiles[name] else {
            fields.error(fields.line(of: "profile"), "unknown disclosure profile '\(name)'")
            return nil
        }
        guard fields.has("overrides") else { return ProjectDisclosure(profile: name, rules: profile.rules) }
        guard let overrides = fields.mapping("overrides", what: "'overrides'", allowed: ruleKeys),
            let rules = readRules(overrides, base: profile.rules)
        else { return nil }
        let loosened = loosenedRules(rules, comparedTo: profile.rules)
        guard loosened.isEmpty else {
            let line = loosened.first.map { overrides.line(of: $0) } ?? overrides.line
            overrides.error(line, "overrides loosen profile '\(name)' (\(loosened.joined(separator: ", "))); a project may only tighten its profile")
            return nil
        }
        return ProjectDisclosure(profile: name, rules: rules)
    }
}
