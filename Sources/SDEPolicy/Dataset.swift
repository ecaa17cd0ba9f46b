public import SDECommon
public import SDEDisclosure

/// An inclusive range of whole quarters, such as a project's data window `2022Q2...2025Q1`.
public struct QuarterRange: Sendable, Hashable, CustomStringConvertible {
    /// First quarter, inclusive.
    public let from: Quarter
    /// Last quarter, inclusive.
    public let to: Quarter

    /// A range, or nil when `from` is after `to`.
    public init?(from: Quarter, to: Quarter) {
        guard from <= to else { return nil }
        self.from = from
        self.to = to
    }

    /// Whether `quarter` lies inside the range.
    public func contains(_ quarter: Quarter) -> Bool { from <= quarter && quarter <= to }

    /// Whether `other` lies wholly inside the range.
    public func contains(_ other: QuarterRange) -> Bool { contains(other.from) && contains(other.to) }

    /// First day of the first quarter: the inclusive lower bound for a dataset's period column.
    public var firstDay: CivilDate { from.firstDay }

    /// Last day of the last quarter: the inclusive upper bound for a dataset's period column.
    public var lastDay: CivilDate { to.lastDay }

    /// `2022Q2..2025Q1`.
    public var description: String { "\(from)..\(to)" }
}

/// A dataset in the catalogue: a curated view researchers may query only through vetted queries.
///
/// ```swift
/// let waits = policy.datasets["request_waits"]!
/// waits.view                                  // "datasets.request_waits"
/// waits.dimension(named: "la_code")?.parent   // "region_code"
/// ```
public struct Dataset: Sendable, Hashable {
    /// Stable identifier used by projects and queries.
    public let id: String
    /// Short title.
    public let title: String
    /// What one row is.
    public let description: String
    /// The schema-qualified view, e.g. `datasets.request_waits`.
    public let view: String
    /// The column holding the person pseudonym; persons are counted as distinct values of it.
    public let personKey: String
    /// The column holding each person's secret record key (the cell-key method): only ever summed into cell keys, never a
    /// dimension, flag, magnitude, measure or filter, never in an output.
    public let recordKey: String
    /// The date column that quarter parameters and the project's data window filter on.
    public let periodColumn: String
    /// The quarters the data covers.
    public let coverage: QuarterRange
    /// Columns a query may group or filter by.
    public let dimensions: [Dimension]
    /// Boolean columns usable in fixed filters and as rate numerators or denominators.
    public let flags: [DatasetColumn]
    /// Numeric columns usable in sum, mean and median measures.
    public let magnitudes: [DatasetColumn]
    /// The statistics a query may release.
    public let measures: [Measure]

    /// The dimension named `name`.
    public func dimension(named name: String) -> Dimension? { dimensions.first { $0.name == name } }

    /// The measure named `name`.
    public func measure(named name: String) -> Measure? { measures.first { $0.name == name } }

    /// The flag column named `name`.
    public func flag(named name: String) -> DatasetColumn? { flags.first { $0.name == name } }
}

/// A column of a dataset a query may group or filter by.
public struct Dimension: Sendable, Hashable {
    /// Column name in the view (also the name in output tables).
    public let name: String
    /// What the column means.
    public let description: String
    /// The kind of values.
    public let type: DimensionType
    /// The allowed values.
    public let values: DimensionValues
    /// True when every person falls in at most one value within a cell (sex, age band, local authority, region), so
    /// distinct-person counts add up over it; false when one person can sit in several values (quarter, event type).
    public let partitionsPersons: Bool
    /// The dimension one level up in a hierarchy (e.g. `region_code` for `la_code`); totals roll up LA → region → England.
    public let parent: String?
}

/// The kind of a dimension's values.
public enum DimensionType: String, Sendable, Hashable, CaseIterable {
    /// Codes from a reference list (local authorities, regions).
    case codeList = "code_list"
    /// A fixed list of text values.
    case enumeration
    /// Contiguous, ordered age bands such as `18-64`, `65-74`, `85+`.
    case ageBand = "age_band"
    /// Quarters `YYYYQn` derived from the period column.
    case quarter
}

/// The values a dimension may take.
public enum DimensionValues: Sendable, Hashable {
    /// Exactly these values (enumerations, age bands, in order).
    case listed([String])
    /// The codes of a reference list supplied to the loader (``ReferenceCodes``).
    case reference(ReferenceList)
    /// The quarters within the dataset's coverage and the project's data window.
    case quarters
}

/// A reference code list the loader receives as input (from `Sql/local_authorities.csv`).
public enum ReferenceList: String, Sendable, Hashable, CaseIterable {
    /// The 153 English local authorities with adult social care duties (ONS codes).
    case localAuthorities = "local_authorities"
    /// The 9 English regions (ONS codes).
    case regions
}

/// A boolean or numeric column of a dataset.
public struct DatasetColumn: Sendable, Hashable {
    /// Column name in the view.
    public let name: String
    /// What the column means.
    public let description: String
    /// Unit of a numeric column (e.g. `days`, `GBP per week`); nil for flags.
    public let unit: String?
}

/// A statistic a query may release for each cell.
public struct Measure: Sendable, Hashable {
    /// Name in output tables.
    public let name: String
    /// What it measures.
    public let description: String
    /// How it is computed from the dataset's columns.
    public let formula: MeasureFormula
}

/// How a measure is computed from the dataset's columns: the catalogue's side of disclosure control's ``MeasureKind``.
/// Minimum and maximum are never offered: they disclose one person's value.
public enum MeasureFormula: Sendable, Hashable {
    /// Distinct persons (distinct person keys).
    case persons
    /// Rows (events, requests, discharges).
    case events
    /// Sum of a magnitude column (dominance and p% rules apply).
    case sum(column: String)
    /// Mean of a magnitude column (needs the profile's minimum persons).
    case mean(column: String)
    /// Median of a magnitude column (needs the profile's minimum persons).
    case median(column: String)
    /// Distinct persons with flag `numerator` true over distinct persons with flag `denominator` true (all persons in
    /// the cell when nil); numerator persons are counted among the denominator persons.
    case rate(numerator: String, denominator: String?)

    /// What the measure reports, as disclosure control sees it; its raw value is the YAML `kind` name.
    public var kind: MeasureKind {
        switch self {
        case .persons: .persons
        case .events: .events
        case .sum: .sum
        case .mean: .mean
        case .median: .median
        case .rate: .rate
        }
    }
}

extension PolicyLoader {
    static let datasetKeys = [
        "id", "title", "description", "view", "person_key", "record_key", "period_column", "coverage", "dimensions", "flags", "magnitudes",
        "measures",
    ]

    /// Reads `datasets.yaml`: a `datasets:` list.
    static func readDatasets(_ root: PolicyNode, file: String, log: DiagnosticLog) -> [Dataset] {
        guard let top = FieldReader(root, file: file, what: "the datasets file", allowed: ["datasets"], log: log) else { return [] }
        var datasets: [Dataset] = []
        var ids: Set<String> = []
        for item in top.list("datasets", nonEmpty: true) ?? [] {
            guard let fields = FieldReader(item, file: file, what: "a dataset", allowed: datasetKeys, log: log) else { continue }
            guard let dataset = readDataset(fields) else { continue }
            guard ids.insert(dataset.id).inserted else {
                fields.error(fields.line(of: "id"), "duplicate dataset id '\(dataset.id)'")
                continue
            }
            datasets.append(dataset)
        }
        return datasets
    }

    private static func readDataset(_ fields: FieldReader) -> Dataset? {
        let id = fields.identifier("id")
        let title = fields.string("title")
        let description = fields.string("description")
        var view: String? = nil
        if let viewNode = fields.node("view"), let text = fields.text(viewNode, "view") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2 && parts.allSatisfy({ Identifier.isSQLName(String($0)) }) {
                view = text
            } else {
                fields.error(viewNode.line, "'view' must be a schema-qualified view name such as datasets.care_events, found '\(text)'")
            }
        }
        let personKey = fields.columnName("person_key")
        let recordKey = fields.columnName("record_key")
        let periodColumn = fields.columnName("period_column")
        var coverage: QuarterRange? = nil
        if let range = fields.mapping("coverage", what: "'coverage'", allowed: ["from", "to"]) {
            coverage = readQuarterRange(range)
        }
        if let recordKey, recordKey == personKey || recordKey == periodColumn {
            fields.error(fields.line(of: "record_key"), "'record_key' must name a column of its own, not the person key or period column")
        }
        var columns: Set<String> = Set([personKey, periodColumn].compactMap { $0 })
        func claim(_ name: String, _ line: Int) -> Bool {
            guard name != recordKey else {
                fields.error(line, Self.recordKeyUse(name))
                return false
            }
            guard columns.insert(name).inserted else {
                fields.error(line, "column '\(name)' is declared twice in dataset '\(id ?? "?")'")
                return false
            }
            return true
        }
        var dimensions: [Dimension] = []
        var dimensionLines: [String: Int] = [:]
        for item in fields.list("dimensions", nonEmpty: true) ?? [] {
            guard let dimension = readDimension(item, fields), claim(dimension.name, item.line) else { continue }
            dimensions.append(dimension)
            dimensionLines[dimension.name] = item.line
        }
        checkHierarchy(dimensions, lines: dimensionLines, fields)
        let flags = readColumns(fields, key: "flags", withUnit: false).filter { claim($0.value.name, $0.line) }.map(\.value)
        let magnitudes = readColumns(fields, key: "magnitudes", withUnit: true).filter { claim($0.value.name, $0.line) }.map(\.value)
        var measures: [Measure] = []
        for item in fields.list("measures", nonEmpty: true) ?? [] {
            guard let measure = readMeasure(item, fields, flags: flags, magnitudes: magnitudes) else { continue }
            guard measure.name != recordKey else {
                fields.error(item.line, Self.recordKeyUse(measure.name))
                continue
            }
            guard !measures.contains(where: { $0.name == measure.name }) else {
                fields.error(item.line, "duplicate measure '\(measure.name)'")
                continue
            }
            measures.append(measure)
        }
        guard let id, let title, let description, let view, let personKey, let recordKey, let periodColumn, let coverage else { return nil }
        return Dataset(
            id: id, title: title, description: description, view: view, personKey: personKey, recordKey: recordKey, periodColumn: periodColumn,
            coverage: coverage, dimensions: dimensions, flags: flags, magnitudes: magnitudes, measures: measures)
    }

    /// Why the record key column cannot be used as `name` is used.
    static func recordKeyUse(_ name: String) -> String {
        "'\(name)' is the dataset's record key: it is only ever summed into cell keys, never a dimension, flag, magnitude or measure"
    }

    /// Reads `{from: YYYYQn, to: YYYYQn}` from a mapping; from after to is logged.
    static func readQuarterRange(_ fields: FieldReader) -> QuarterRange? {
        guard let from = fields.quarter("from"), let to = fields.quarter("to") else { return nil }
        guard let range = QuarterRange(from: from, to: to) else {
            fields.error(fields.line(of: "to"), "'to' (\(to)) is before 'from' (\(from))")
            return nil
        }
        return range
    }

    private static func readDimension(_ node: PolicyNode, _ dataset: FieldReader) -> Dimension? {
        let keys = ["name", "description", "type", "values", "partitions_persons", "parent"]
        guard let fields = FieldReader(node, file: dataset.file, what: "a dimension", allowed: keys, log: dataset.log) else { return nil }
        let name = fields.columnName("name")
        let description = fields.string("description")
        let partitions = fields.bool("partitions_persons")
        let parent = fields.columnName("parent", required: false)
        var type: DimensionType? = nil
        if let typeNode = fields.node("type"), let text = fields.text(typeNode, "type") {
            type = DimensionType(rawValue: text)
            if type == nil {
                let known = DimensionType.allCases.map(\.rawValue).joined(separator: ", ")
                fields.error(typeNode.line, "unknown dimension type '\(text)'; types are \(known)")
            }
        }
        var values: DimensionValues? = nil
        switch type {
        case .codeList:
            if let valuesNode = fields.node("values"), let text = fields.text(valuesNode, "values") {
                if let list = ReferenceList(rawValue: text) {
                    values = .reference(list)
                } else {
                    let known = ReferenceList.allCases.map(\.rawValue).joined(separator: ", ")
                    fields.error(valuesNode.line, "a code_list dimension takes 'values' from a reference list (\(known)), found '\(text)'")
                }
            }
        case .enumeration:
            if let list = fields.textList("values", nonEmpty: true) { values = .listed(list.map(\.value)) }
        case .ageBand:
            if let list = fields.textList("values", nonEmpty: true), checkAgeBands(list, fields) { values = .listed(list.map(\.value)) }
        case .quarter:
            if fields.has("values") {
                fields.error(fields.line(of: "values"), "a quarter dimension takes its values from the data window; remove 'values'")
            } else {
                values = .quarters
            }
            if partitions == true {
                fields.error(
                    fields.line(of: "partitions_persons"), "a quarter dimension cannot partition persons: one person can appear in several quarters")
            }
        case nil:
            break
        }
        if let parent, parent == name {
            fields.error(fields.line(of: "parent"), "a dimension cannot be its own parent")
        }
        guard let name, let description, let partitions, let type, let values else { return nil }
        return Dimension(name: name, description: description, type: type, values: values, partitionsPersons: partitions, parent: parent)
    }

    /// Age bands must be `A-B` or a final `A+`, contiguous and increasing.
    private static func checkAgeBands(_ bands: [Located<String>], _ fields: FieldReader) -> Bool {
        var expectedStart: Int? = nil
        for (index, band) in bands.enumerated() {
            let isLast = index == bands.count - 1
            let lower: Int?
            let upper: Int?
            if band.value.hasSuffix("+") {
                lower = Int(band.value.dropLast())
                upper = nil
            } else {
                let parts = band.value.split(separator: "-", omittingEmptySubsequences: false)
                lower = parts.count == 2 ? Int(parts[0]) : nil
                upper = parts.count == 2 ? Int(parts[1]) : nil
            }
            guard let lower, lower >= 0, (upper == nil && isLast) || (upper.map { $0 >= lower } ?? false) else {
                fields.error(band.line, "age band '\(band.value)' must be written A-B (A ≤ B), or A+ for the last band")
                return false
            }
            if let expectedStart, lower != expectedStart {
                fields.error(band.line, "age band '\(band.value)' should start at \(expectedStart) so bands are contiguous")
                return false
            }
            expectedStart = upper.map { $0 + 1 }
        }
        return true
    }

    /// Parents must be dimensions of the same dataset; the only hierarchy with known roll-ups is local authority → region.
    private static func checkHierarchy(_ dimensions: [Dimension], lines: [String: Int], _ fields: FieldReader) {
        for dimension in dimensions {
            guard let parentName = dimension.parent else { continue }
            let line = lines[dimension.name] ?? fields.line
            guard let parent = dimensions.first(where: { $0.name == parentName }) else {
                fields.error(line, "dimension '\(dimension.name)' names parent '\(parentName)', which is not a dimension of this dataset")
                continue
            }
            guard dimension.values == .reference(.localAuthorities), parent.values == .reference(.regions) else {
                fields.error(line, "hierarchies are supported from a local_authorities code list to a regions code list only")
                continue
            }
        }
    }

    private static func readColumns(_ dataset: FieldReader, key: String, withUnit: Bool) -> [Located<DatasetColumn>] {
        var result: [Located<DatasetColumn>] = []
        let allowed = withUnit ? ["name", "description", "unit"] : ["name", "description"]
        let what = withUnit ? "a magnitude column" : "a flag column"
        for item in dataset.list(key, required: false) ?? [] {
            guard let fields = FieldReader(item, file: dataset.file, what: what, allowed: allowed, log: dataset.log) else { continue }
            let name = fields.columnName("name")
            let description = fields.string("description")
            let unit = withUnit ? fields.string("unit") : nil
            guard let name, let description, !withUnit || unit != nil else { continue }
            result.append(Located(value: DatasetColumn(name: name, description: description, unit: unit), line: item.line))
        }
        return result
    }

    private static func readMeasure(_ node: PolicyNode, _ dataset: FieldReader, flags: [DatasetColumn], magnitudes: [DatasetColumn]) -> Measure? {
        let keys = ["name", "description", "kind", "column", "numerator", "denominator"]
        guard let fields = FieldReader(node, file: dataset.file, what: "a measure", allowed: keys, log: dataset.log) else { return nil }
        let name = fields.columnName("name")
        let description = fields.string("description")
        guard let kindNode = fields.node("kind"), let kindName = fields.text(kindNode, "kind") else { return nil }
        func magnitude() -> String? {
            guard let column = fields.columnName("column") else { return nil }
            guard magnitudes.contains(where: { $0.name == column }) else {
                fields.error(fields.line(of: "column"), "measure '\(name ?? "?")' uses '\(column)', which is not a magnitude column of this dataset")
                return nil
            }
            return column
        }
        /// Flag column `key`: `ok` is false when it is required and missing, or present and invalid.
        func flag(_ key: String, required: Bool) -> (ok: Bool, column: String?) {
            guard required || fields.has(key) else { return (true, nil) }
            guard let column = fields.columnName(key) else { return (false, nil) }
            guard flags.contains(where: { $0.name == column }) else {
                fields.error(fields.line(of: key), "measure '\(name ?? "?")' uses '\(column)', which is not a flag column of this dataset")
                return (false, nil)
            }
            return (true, column)
        }
        func forbid(_ keys: [String]) {
            for key in keys where fields.has(key) {
                fields.error(fields.line(of: key), "'\(key)' does not apply to a \(kindName) measure")
            }
        }
        let formula: MeasureFormula?
        switch kindName {
        case "persons":
            forbid(["column", "numerator", "denominator"])
            formula = .persons
        case "events":
            forbid(["column", "numerator", "denominator"])
            formula = .events
        case "sum", "mean", "median":
            forbid(["numerator", "denominator"])
            let column = magnitude()
            formula = column.map { kindName == "sum" ? .sum(column: $0) : kindName == "mean" ? .mean(column: $0) : .median(column: $0) }
        case "rate":
            forbid(["column"])
            let numerator = flag("numerator", required: true)
            let denominator = flag("denominator", required: false)
            if let column = numerator.column, column == denominator.column {
                fields.error(fields.line(of: "denominator"), "a rate's numerator and denominator must differ")
                formula = nil
            } else if numerator.ok, denominator.ok, let column = numerator.column {
                formula = .rate(numerator: column, denominator: denominator.column)
            } else {
                formula = nil
            }
        case "min", "max", "minimum", "maximum":
            fields.error(kindNode.line, "\(kindName) is never released: it discloses one person's value")
            formula = nil
        default:
            fields.error(kindNode.line, "unknown measure kind '\(kindName)'; kinds are persons, events, sum, mean, median, rate")
            formula = nil
        }
        guard let name, let description, let formula else { return nil }
        return Measure(name: name, description: description, formula: formula)
    }
}
