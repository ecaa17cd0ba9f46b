public import Logging
public import SDEAudit
public import SDECommon
import SDEDisclosure
public import SDEPolicy
public import SDEQuery
public import SDEStore

/// `query show`: a vetted query's specification, compiled SQL and bound parameters, for the IG officers vetting it and
/// for operators. Releases no data (no SQL is executed) and is audited as `query.show`, allowed or denied.
///
/// Parameters left out are filled with example values so that the SQL can always be shown: quarter bounds default to
/// the dataset's whole coverage (as an optional bound defaults to a project's data window), and optional enumeration
/// parameters stay absent (no filter). Parameters given are checked against the dataset's coverage and domains.
///
/// ```swift
/// let inspector = QueryInspector(policy: policy, trail: trail, logger: logger)
/// if case .shown(let spec, _) = try await inspector.show(user: "ig-helen-moore", query: "waits-by-la-quarter", parameters: [:], today: today) {
///     print(spec.text)
/// }
/// ```
public struct QueryInspector: Sendable {
    /// What `query show` gave the caller.
    public enum Outcome: Sendable {
        /// The specification, shown after its audit event committed.
        case shown(QuerySpecification, event: AuditEvent)
        /// Access was refused (role, unknown query, bad parameter); the refusal was audited.
        case denied(AccessDenial, event: AuditEvent)
    }

    let policy: PolicySet
    let trail: AuditTrail
    let logger: Logger

    /// An inspector over a loaded policy set and the audit trail.
    public init(policy: PolicySet, trail: AuditTrail, logger: Logger) {
        self.policy = policy
        self.trail = trail
        self.logger = logger
    }

    /// Shows `query` to `user` compiled with `parameters` (examples for those left out), on `today`.
    /// - Throws: `StoreError.auditUnavailable` when the audit event cannot be recorded (nothing is shown then);
    ///   `QueryError` when the catalogue cannot compile the query.
    public func show(user: String, query queryID: String, parameters: [String: String], today: CivilDate) async throws -> Outcome {
        func deny(_ denial: AccessDenial) async throws -> Outcome {
            let event = try await trail.record(
                try QueryRunner.serviceDraft(
                    user: user, role: nil, project: nil, action: .queryShow, target: queryID, parameters: [:], policyDigest: policy.digest,
                    outcome: .denied, reason: denial.reason.rawValue))
            return .denied(denial, event: event)
        }
        let decision = policy.decide(user: user, action: .showQuery(query: queryID), now: today)
        guard case .allow(let grant) = decision, let query = grant.query else {
            return try await deny(decision.denial ?? AccessDenial(.unknownQuery, "There is no vetted query '\(queryID)'."))
        }
        var effective = parameters
        var examples: Set<String> = []
        let coverage = policy.datasets[query.dataset]?.coverage
        for parameter in query.parameters where effective[parameter.name] == nil {
            guard case .quarter(let bound) = parameter.kind, let coverage else { continue }
            effective[parameter.name] = (bound == .from ? coverage.from : coverage.to).description
            examples.insert(parameter.name)
        }
        let checked: CheckedParameters
        switch policy.checkParameters(effective, of: query) {
        case .failure(let denial): return try await deny(denial)
        case .success(let value): checked = value
        }
        guard let dataset = policy.datasets[query.dataset] else { return try await deny(AccessDenial(.unknownQuery, "No dataset \(query.dataset).")) }
        let rules = DisclosureRules()
        let compiled = try QueryCompiler.compile(query, dataset: dataset, period: checked.period, parameterFilters: checked.filters, rules: rules)
        let specification = QuerySpecification(query: query, dataset: dataset, parameters: checked.values, examples: examples, compiled: compiled)
        let (event, _) = try await trail.release(Array(specification.text.utf8)) { digest in
            try QueryRunner.serviceDraft(
                user: user, role: (grant.user.has(.igOfficer) ? Role.igOfficer : Role.`operator`).rawValue, project: nil, action: .queryShow, target: query.id,
                parameters: checked.values, policyDigest: grant.policyDigest, outcome: .allowed, outputDigest: digest)
        }
        return .shown(specification, event: event)
    }
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
