import SDECommon
public import SDEAudit
import SDEDisclosure
public import SDEPolicy
public import SDEQuery

/// `query show`: a vetted query's specification, compiled SQL and bound parameters, for the IG officers vetting it and
/// for operators. Releases no data (no SQL is executed) and is audited as `query.show`, allowed or denied.
///
/// Parameters left out are filled with example values so that the SQL can always be shown: quarter bounds default to
/// the dataset's whole coverage (as an optional bound defaults to a project's data window), and optional enumeration
/// parameters stay absent (no filter). Parameters given are checked against the dataset's coverage and domains.
///
/// ```swift
/// let shown = try await inspector.show(igOfficer, query: "waits-by-la-quarter", parameters: [:])
/// print(shown.specification.text)
/// ```
public struct QueryInspector: Sendable {
    let gate: AccessGate

    /// An inspector through `gate`.
    public init(gate: AccessGate) {
        self.gate = gate
    }

    /// Shows `query` to `caller` compiled with `parameters` (examples for those left out).
    /// - Throws: ``ServiceError`` when refused (audited) or when the audit event cannot be recorded (nothing is shown).
    public func show(_ caller: Caller, query queryID: String, parameters: [String: String]) async throws -> ShownQuery {
        let access = try await gate.authorize(caller, .showQuery(query: queryID), AuditSubject(.queryShow, target: queryID))
        guard let query = access.grant.query else { preconditionFailure("a showQuery grant always carries the query") }
        let policy = access.policy
        guard let dataset = policy.datasets[query.dataset] else { preconditionFailure("a valid policy set's queries name its datasets") }
        var effective = parameters
        var examples: Set<String> = []
        for parameter in query.parameters where effective[parameter.name] == nil {
            guard case .quarter(let bound) = parameter.kind else { continue }
            effective[parameter.name] = (bound == .from ? dataset.coverage.from : dataset.coverage.to).description
            examples.insert(parameter.name)
        }
        let checked: CheckedParameters
        switch policy.checkParameters(effective, of: query) {
        case .failure(let denial): throw try await gate.refuse(access, denial)
        case .success(let value): checked = value
        }
        return try await gate.auditingFailures(of: access, parameters: checked.values) {
            let compiled = try QueryCompiler.compile(
                query, dataset: dataset, period: checked.period, parameterFilters: checked.filters, rules: DisclosureRules())
            let specification = QuerySpecification(query: query, dataset: dataset, parameters: checked.values, examples: examples, compiled: compiled)
            let (event, _) = try await gate.recordOutput(Array(specification.text.utf8), of: access, parameters: checked.values)
            return ShownQuery(specification: specification, event: event)
        }
    }
}

/// A specification shown after its `query.show` event committed.
public struct ShownQuery: Sendable {
    /// The specification.
    public let specification: QuerySpecification
    /// Its audit event.
    public let event: AuditEvent
}

/// A vetted query as `query show` prints it: the specification, the parameters it was compiled with, the SQL and its binds.
public struct QuerySpecification: Sendable {
    /// The vetted query.
    public let query: VettedQuery
    /// Its dataset.
    public let dataset: Dataset
    /// The parameter values the SQL was compiled with (given or example).
    public let parameters: [String: String]
    /// The names of the parameters filled with example values.
    public let examples: Set<String>
    /// The compiled statement: ``CompiledQuery/sql`` with `$1`, `$2`, ... placeholders and ``CompiledQuery/binds``.
    public let compiled: CompiledQuery

    /// The plain-text rendering: spec, parameter schemas, approval, SQL, then `$n = type value` per bind.
    public var text: String {
        var lines = [
            "query:      \(query.id)", "title:      \(query.title)", "dataset:    \(dataset.id) (\(dataset.view))",
            "approval:   \(query.approvalStatus)", "dimensions: \(query.dimensions.joined(separator: ", "))", "measures:",
        ]
        for name in query.measures {
            lines.append("  \(name): " + (dataset.measure(named: name).map(Self.describe) ?? "unknown"))
        }
        lines.append("filters:" + (query.filters.isEmpty ? " none" : ""))
        for filter in query.filters {
            switch filter {
            case .dimension(let name, let values): lines.append("  \(name) in [\(values.joined(separator: ", "))]")
            case .flag(let name, let equals): lines.append("  \(name) = \(equals)")
            }
        }
        lines.append("parameters:" + (query.parameters.isEmpty ? " none" : ""))
        for parameter in query.parameters {
            let schema: String
            switch parameter.kind {
            case .quarter(let bound): schema = "quarter YYYYQn, \(bound.rawValue) bound, within \(dataset.coverage)"
            case .enumeration(let dimension, let allowed):
                schema = "one value of \(dimension)" + (allowed.map { " in [\($0.joined(separator: ", "))]" } ?? "")
            }
            let value = parameters[parameter.name].map { examples.contains(parameter.name) ? "\($0) (example)" : $0 } ?? "absent"
            lines.append("  \(parameter.name): \(schema); \(parameter.required ? "required" : "optional"); compiled with \(value)")
            lines.append("    \(parameter.description)")
        }
        lines += ["", "SQL:", compiled.sql, "", "binds:"]
        lines += compiled.binds.enumerated().map { "  $\($0.offset + 1) = \($0.element)" }
        return lines.joined(separator: "\n")
    }

    private static func describe(_ measure: Measure) -> String {
        switch measure.formula {
        case .persons, .events: measure.formula.kind.rawValue
        case .sum(let column), .mean(let column), .median(let column): "\(measure.formula.kind.rawValue) of \(column)"
        case .rate(let numerator, let denominator): "rate of \(numerator) among \(denominator ?? "all persons")"
        }
    }
}
