import SDECommon
import SDEPolicy

/// The JSON the API shows of policy objects: a caller's projects and a project's vetted queries with their
/// parameter schemas. Nothing here is personal data.
enum PolicyDocuments {
    /// A project as its member sees it, with whether it may be used today and, if not, why.
    static func project(_ project: Project, decision: AccessDecision) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(project.id), "title": .string(project.title), "purpose": .string(project.purpose),
            "status": .string(project.status.rawValue), "approval": .string(project.approvalStatus.description),
            "start": .string(project.start.description), "expiry": .string(project.expiry.description),
            "data_window": .object(["from": .string(project.dataWindow.from.description), "to": .string(project.dataWindow.to.description)]),
            "datasets": .array(project.datasets.map { .string($0) }), "queries": .array(project.queries.map { .string($0) }),
            "disclosure_profile": .string(project.disclosure.profile),
        ]
        switch decision {
        case .allow: members["usable"] = .bool(true)
        case .deny(let denial):
            members["usable"] = .bool(false)
            members["refusal"] = .object(["code": .string(denial.reason.rawValue), "message": .string(denial.message)])
        }
        return .object(members)
    }

    /// A vetted query with its dataset's dimensions and measures and a JSON-schema-like description of each parameter.
    static func query(_ query: VettedQuery, policy: PolicySet, window: QuarterRange) -> JSONValue {
        let dataset = policy.datasets[query.dataset]
        let measures: [JSONValue] = query.measures.map { name in
            .object(["name": .string(name), "description": .string(dataset?.measure(named: name)?.description ?? "")])
        }
        return .object([
            "id": .string(query.id), "title": .string(query.title), "description": .string(query.description),
            "dataset": .string(query.dataset), "approval": .string(query.approvalStatus.description),
            "dimensions": .array(query.dimensions.map { .string($0) }), "measures": .array(measures),
            "parameters": .array(query.parameters.map { parameter($0, of: query, policy: policy, window: window) }),
        ])
    }

    private static func parameter(_ parameter: QueryParameter, of query: VettedQuery, policy: PolicySet, window: QuarterRange) -> JSONValue {
        var schema: [String: JSONValue] = [
            "name": .string(parameter.name), "description": .string(parameter.description), "required": .bool(parameter.required),
        ]
        switch policy.domain(of: parameter, in: query, window: window) {
        case .quarters(let coverage):
            schema["type"] = .string("quarter")
            if case .quarter(let bound) = parameter.kind { schema["bound"] = .string(bound.rawValue) }
            schema["pattern"] = .string("^[0-9]{4}Q[1-4]$")
            schema["minimum"] = .string(coverage.from.description)
            schema["maximum"] = .string(coverage.to.description)
        case .values(let values):
            schema["type"] = .string("enum")
            if case .enumeration(let dimension, _) = parameter.kind { schema["dimension"] = .string(dimension) }
            schema["values"] = .array(values.map { .string($0) })
        }
        return .object(schema)
    }
}
