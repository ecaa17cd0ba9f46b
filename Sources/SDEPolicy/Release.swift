public import SDEDisclosure

/// A regulator publication: a vetted query with fixed parameters, released to named organisations under a profile.
public struct Release: Sendable, Hashable {
    /// Stable identifier.
    public let id: String
    /// Short title.
    public let title: String
    /// What it publishes and why.
    public let description: String
    /// The ``VettedQuery`` id.
    public let query: String
    /// The fixed parameters, checked against the query and its dataset's coverage.
    public let parameters: CheckedParameters
    /// Organisation ids that may read it (e.g. `cqc`).
    public let audience: [String]
    /// The ``DisclosureProfile`` id.
    public let profile: String
    /// The profile's rules.
    public let rules: DisclosureRules
}

extension PolicyLoader {
    static let releaseKeys = ["id", "title", "description", "query", "parameters", "audience", "profile"]

    /// Reads `releases.yaml`: a `releases:` list (may be empty).
    static func readReleases(_ root: PolicyNode, file: String, context: PolicyLoader.Context, log: DiagnosticLog) -> [Release] {
        guard let top = FieldReader(root, file: file, what: "the releases file", allowed: ["releases"], log: log) else { return [] }
        var releases: [Release] = []
        for item in top.list("releases") ?? [] {
            guard let fields = FieldReader(item, file: file, what: "a release", allowed: releaseKeys, log: log) else { continue }
            let id = fields.identifier("id")
            let title = fields.string("title")
            let description = fields.string("description")
            var query: VettedQuery? = nil
            if let name = fields.identifier("query") {
                query = context.queries[name]
                if query == nil && !context.queryFiles.contains(name) { fields.error(fields.line(of: "query"), "unknown vetted query '\(name)'") }
            }
            var raw: [String: String] = [:]
            if let parameters = fields.node("parameters") {
                if case .mapping(let entries) = parameters.kind {
                    for entry in entries {
                        if let value = fields.text(entry.value, entry.key) { raw[entry.key] = value }
                    }
                } else {
                    fields.error(parameters.line, "'parameters' must be a mapping of parameter names to values")
                }
            }
            let audience = fields.identifierList("audience", nonEmpty: true)
            for organisation in audience ?? [] where context.organisations[organisation.value] == nil {
                fields.error(organisation.line, "unknown organisation '\(organisation.value)'")
            }
            var profile: DisclosureProfile? = nil
            if let name = fields.identifier("profile") {
                profile = context.profiles[name]
                if profile == nil { fields.error(fields.line(of: "profile"), "unknown disclosure profile '\(name)'") }
            }
            var checked: CheckedParameters? = nil
            if let query, let dataset = context.datasets[query.dataset] {
                switch ParameterCheck.check(raw, query: query, dataset: dataset, window: dataset.coverage, reference: context.reference) {
                case .success(let parameters): checked = parameters
                case .failure(let denial): fields.error(fields.line(of: "parameters"), denial.message)
                }
            }
            guard let id, let title, let description, let query, let checked, let audience, let profile else { continue }
            guard !releases.contains(where: { $0.id == id }) else {
                fields.error(fields.line(of: "id"), "duplicate release id '\(id)'")
                continue
            }
            releases.append(
                Release(
                    id: id, title: title, description: description, query: query.id, parameters: checked, audience: audience.map(\.value),
                    profile: profile.id, rules: profile.rules))
        }
        return releases
    }
}
