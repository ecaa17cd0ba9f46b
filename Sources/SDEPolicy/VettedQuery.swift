import SDECommon

/// A vetted aggregate query: the only way data leaves. The broker compiles it to SQL; users only fill in parameters.
///
/// ```swift
/// let query = policy.queries["waits-by-la-quarter"]!
/// query.dataset                   // "request_waits"
/// query.dimensions                // ["la_code", "quarter"]
/// query.approvalStatus.isApproved // true when signed by an active IG officer
/// ```
public struct VettedQuery: Sendable, Hashable {
    /// Stable identifier (also the file name, `queries/<id>.yaml`).
    public let id: String
    /// Short title.
    public let title: String
    /// What the query answers, for researchers choosing it.
    public let description: String
    /// The ``Dataset`` id it reads.
    public let dataset: String
    /// Dimensions it groups by, in output order (names of the dataset's dimensions).
    public let dimensions: [String]
    /// Measures it releases, in output order (names of the dataset's measures).
    public let measures: [String]
    /// Fixed filters always applied.
    public let filters: [QueryFilter]
    /// Parameters the caller supplies.
    public let parameters: [QueryParameter]
    /// The `approval:` block, if any.
    public let approval: Approval?
    /// Whether the approval verifies (computed when the policy set is loaded).
    public let approvalStatus: ApprovalStatus

    /// The parameter named `name`.
    public func parameter(named name: String) -> QueryParameter? { parameters.first { $0.name == name } }
}

/// A filter on a dataset's rows.
public enum QueryFilter: Sendable, Hashable {
    /// Keep rows whose `dimension` column is one of `values`.
    case dimension(String, in: [String])
    /// Keep rows whose boolean `column` equals `equals`.
    case flag(String, equals: Bool)
}

/// A parameter of a vetted query, with its domain.
public struct QueryParameter: Sendable, Hashable {
    /// The name callers use.
    public let name: String
    /// What it does, for researchers.
    public let description: String
    /// Its type and domain.
    public let kind: ParameterKind
    /// Whether the caller must supply it. An absent optional quarter bound defaults to the data window's bound; an
    /// absent optional value parameter means no filter.
    public let required: Bool
}

/// The type and domain of a query parameter.
public enum ParameterKind: Sendable, Hashable {
    /// A whole quarter `YYYYQn` bounding the dataset's period column, inside the project's data window.
    case quarter(QuarterBound)
    /// One value of a dataset dimension (an enumeration, age band or code), optionally restricted to `allowed`.
    case enumeration(dimension: String, allowed: [String]?)
}

/// Which end of the period a quarter parameter sets.
public enum QuarterBound: String, Sendable, Hashable, CaseIterable {
    /// First quarter, inclusive.
    case from
    /// Last quarter, inclusive.
    case to
}

extension PolicyLoader {
    static let queryKeys = ["id", "title", "description", "dataset", "dimensions", "measures", "filters", "parameters", "approval"]

    /// Reads one `queries/<id>.yaml` file against the loaded datasets.
    static func readQuery(
        _ root: PolicyNode, file: String, stem: String, datasets: [String: Dataset], reference: ReferenceCodes, users: [String: User],
        keys: [String: [UInt8]], rootPath: String, log: DiagnosticLog
    ) -> VettedQuery? {
        guard let fields = FieldReader(root, file: file, what: "a vetted query", allowed: queryKeys, log: log) else { return nil }
        let id = fields.identifier("id")
        if let id, id != stem {
            fields.error(fields.line(of: "id"), "query id '\(id)' must match the file name (\(stem).yaml)")
        }
        let title = fields.string("title")
        let description = fields.string("description")
        var dataset: Dataset? = nil
        if let name = fields.identifier("dataset") {
            dataset = datasets[name]
            if dataset == nil { fields.error(fields.line(of: "dataset"), "unknown dataset '\(name)'") }
        }
        let dimensionNames = fields.identifierList("dimensions", nonEmpty: true)
        let measureNames = fields.identifierList("measures", nonEmpty: true)
        let approval = readApproval(fields)
        guard let dataset else { return nil }
        var ok = true
        for name in dimensionNames ?? [] where dataset.dimension(named: name.value) == nil {
            fields.error(name.line, unknown(name.value, "a dimension", dataset))
            ok = false
        }
        for name in measureNames ?? [] where dataset.measure(named: name.value) == nil {
            fields.error(name.line, unknown(name.value, "a measure", dataset))
            ok = false
        }
        var filters: [QueryFilter] = []
        for item in fields.list("filters", required: false) ?? [] {
            if let filter = readFilter(item, fields, dataset: dataset, reference: reference) { filters.append(filter) } else { ok = false }
        }
        var parameters: [QueryParameter] = []
        for item in fields.list("parameters", required: false) ?? [] {
            guard let parameter = readParameter(item, fields, dataset: dataset, reference: reference) else {
                ok = false
                continue
            }
            if parameters.contains(where: { $0.name == parameter.name }) {
                fields.error(item.line, "duplicate parameter '\(parameter.name)'")
                ok = false
            } else if case .quarter(let bound) = parameter.kind, parameters.contains(where: { $0.kind == .quarter(bound) }) {
                fields.error(item.line, "only one quarter parameter may set bound '\(bound.rawValue)'")
                ok = false
            }
            parameters.append(parameter)
        }
        guard ok, let id, let title, let description, let dimensionNames, let measureNames else { return nil }
        let status = ApprovalSignature.status(of: approval, content: signedContent(root), users: users, keys: keys, root: rootPath)
        return VettedQuery(
            id: id, title: title, description: description, dataset: dataset.id, dimensions: dimensionNames.map(\.value),
            measures: measureNames.map(\.value), filters: filters, parameters: parameters, approval: approval, approvalStatus: status)
    }

    /// Why `name` is not `what` (`a dimension`) of `dataset`: the record key is named as such, so nobody mistakes it for a typo.
    private static func unknown(_ name: String, _ what: String, _ dataset: Dataset) -> String {
        name == dataset.recordKey ? recordKeyUse(name) : "'\(name)' is not \(what) of dataset '\(dataset.id)'"
    }

    private static func readFilter(_ node: PolicyNode, _ query: FieldReader, dataset: Dataset, reference: ReferenceCodes) -> QueryFilter? {
        guard let fields = FieldReader(node, file: query.file, what: "a filter", allowed: ["dimension", "values", "flag", "equals"], log: query.log)
        else { return nil }
        switch (fields.has("dimension"), fields.has("flag")) {
        case (true, false):
            for key in ["equals"] where fields.has(key) { fields.error(fields.line(of: key), "'equals' goes with 'flag', not 'dimension'") }
            guard let name = fields.columnName("dimension"), let values = fields.textList("values", nonEmpty: true) else { return nil }
            guard let dimension = dataset.dimension(named: name) else {
                fields.error(fields.line(of: "dimension"), unknown(name, "a dimension", dataset))
                return nil
            }
            guard checkValues(values, of: dimension, fields, reference: reference) else { return nil }
            return .dimension(name, in: values.map(\.value))
        case (false, true):
            for key in ["values"] where fields.has(key) { fields.error(fields.line(of: key), "'values' goes with 'dimension', not 'flag'") }
            guard let name = fields.columnName("flag"), let equals = fields.bool("equals") else { return nil }
            guard dataset.flag(named: name) != nil else {
                fields.error(fields.line(of: "flag"), unknown(name, "a flag column", dataset))
                return nil
            }
            return .flag(name, equals: equals)
        default:
            fields.error(fields.line, "a filter needs exactly one of 'dimension' (with 'values') or 'flag' (with 'equals')")
            return nil
        }
    }

    private static func readParameter(_ node: PolicyNode, _ query: FieldReader, dataset: Dataset, reference: ReferenceCodes) -> QueryParameter? {
        let keys = ["name", "description", "type", "bound", "dimension", "values", "required"]
        guard let fields = FieldReader(node, file: query.file, what: "a parameter", allowed: keys, log: query.log) else { return nil }
        let name = fields.columnName("name")
        let description = fields.string("description")
        let required = fields.bool("required")
        guard let typeNode = fields.node("type"), let type = fields.text(typeNode, "type") else { return nil }
        let kind: ParameterKind?
        switch type {
        case "quarter":
            for key in ["dimension", "values"] where fields.has(key) {
                fields.error(fields.line(of: key), "'\(key)' does not apply to a quarter parameter")
            }
            if let boundNode = fields.node("bound"), let text = fields.text(boundNode, "bound") {
                kind = QuarterBound(rawValue: text).map { .quarter($0) }
                if kind == nil { fields.error(boundNode.line, "'bound' must be from or to, found '\(text)'") }
            } else {
                kind = nil
            }
        case "enumeration":
            if fields.has("bound") { fields.error(fields.line(of: "bound"), "'bound' applies to quarter parameters only") }
            guard let dimensionName = fields.columnName("dimension") else { return nil }
            guard let dimension = dataset.dimension(named: dimensionName) else {
                fields.error(fields.line(of: "dimension"), unknown(dimensionName, "a dimension", dataset))
                return nil
            }
            guard dimension.type != .quarter else {
                fields.error(fields.line(of: "dimension"), "use a quarter parameter (type: quarter, bound: from|to) to select quarters")
                return nil
            }
            if fields.has("values") {
                guard let values = fields.textList("values", nonEmpty: true), checkValues(values, of: dimension, fields, reference: reference)
                else { return nil }
                kind = .enumeration(dimension: dimensionName, allowed: values.map(\.value))
            } else {
                kind = .enumeration(dimension: dimensionName, allowed: nil)
            }
        default:
            fields.error(typeNode.line, "unknown parameter type '\(type)'; types are quarter and enumeration")
            kind = nil
        }
        guard let name, let description, let required, let kind else { return nil }
        return QueryParameter(name: name, description: description, kind: kind, required: required)
    }

    /// Logs each value that is not an allowed value of `dimension`.
    static func checkValues(_ values: [Located<String>], of dimension: Dimension, _ fields: FieldReader, reference: ReferenceCodes) -> Bool {
        var ok = true
        for value in values where !reference.allows(value.value, in: dimension.values) {
            fields.error(value.line, "'\(value.value)' is not a value of dimension '\(dimension.name)'")
            ok = false
        }
        return ok
    }
}
