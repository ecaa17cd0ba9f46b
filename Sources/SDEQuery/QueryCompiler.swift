public import SDEDisclosure
public import SDEPolicy

/// Compiles a vetted query and its checked parameters into one parameterised PostgreSQL statement over the dataset's
/// curated view. Pure: no I/O, the same input always gives the same SQL and binds.
///
/// The statement counts by distinct person (`count(DISTINCT person_key)`), never by row, and returns every cell and
/// every margin (totals by each dimension, the grand total, and hierarchy totals such as local authority → region →
/// England) from true values in one pass, with `GROUPING SETS`. Values (period dates, filter values, the number of
/// largest contributions) are bound as `$n` parameters, never written into the SQL; identifiers come only from the
/// catalogue and must match a strict pattern. Minimum and maximum of person values are never computed.
///
/// Every measure also gets its **cell key** (the cell-key method, DESIGN section 7) in the same statement: the sum of
/// the record keys of exactly the persons its count covers, modulo 2^32 (`sum(DISTINCT record_key) FILTER (WHERE ...)`
/// with the same condition as the count); a rate gets one for its denominator and one for its numerator. The record key
/// column is read for nothing else: it is never grouped, filtered on, or returned.
///
/// Sum measures need each person's contribution to each cell, margins included: a person's contribution to a total
/// over quarters is the sum over all their quarters. So for them, and only for them, the filtered rows are
/// aggregated per person (with the person's record key) within every grouping set first (`person_totals`), then per
/// cell. The view is read once
/// (`base`, which PostgreSQL materialises because two branches read it).
///
/// ```swift
/// guard case .allow(let grant) = policy.decide(user: user, action: action, now: today), let run = grant.run else { ... }
/// let compiled = try QueryCompiler.compile(run)
/// let table = try await QueryExecutor().run(compiled, on: db)
/// ```
public enum QueryCompiler {
    /// The name of the result column holding the `GROUPING(...)` bits.
    public static let groupingColumn = "grouping"

    /// Compiles an authorised run: its query, dataset, checked parameters, and the effective disclosure rules (which
    /// decide how many largest contributions a sum returns: `max(2, dominanceN)`).
    public static func compile(_ run: AuthorizedQuery) throws(QueryError) -> CompiledQuery {
        var compiled = try compile(
            run.query, dataset: run.dataset, period: run.parameters.period, parameterFilters: run.parameters.filters, rules: run.rules)
        compiled.completeRows = try CompleteRows(
            dimensions: compiled.dimensions, groupingSets: compiled.groupingSets, dataset: run.dataset, period: run.parameters.period,
            filters: run.query.filters + run.parameters.filters, reference: run.reference)
        return compiled
    }

    /// Compiles `query` over `dataset` for the quarters in `period`, with the query's fixed filters and
    /// `parameterFilters` (the checked enumeration parameters), returning `max(2, rules.dominanceN)` largest
    /// per-person contributions for sums. `query show` uses this form for a query outside any project.
    public static func compile(
        _ query: VettedQuery, dataset: Dataset, period: QuarterRange, parameterFilters: [QueryFilter], rules: DisclosureRules
    ) throws(QueryError) -> CompiledQuery {
        guard query.dataset == dataset.id else {
            throw .invalidCatalogue("query \(query.id) reads dataset \(query.dataset), not \(dataset.id)")
        }
        let view = try viewName(dataset)
        let person = try SQLIdentifier(dataset.personKey, "the person key of dataset \(dataset.id)")
        let recordKey = try SQLIdentifier(dataset.recordKey, "the record key of dataset \(dataset.id)")
        try refuseRecordKey(query, parameterFilters: parameterFilters, dataset)
        let periodColumn = try SQLIdentifier(dataset.periodColumn, "the period column of dataset \(dataset.id)")
        let dimensions = try tableDimensions(query, dataset)
        let dimensionColumns = try dimensions.map { (d) throws(QueryError) in try SQLIdentifier(d.name, "dimension") }
        let sets = groupingSets(try hierarchyChains(dimensions))

        var binder = Binder()
        var conditions = [
            "\(periodColumn.quoted) BETWEEN \(binder.bind(.date(period.firstDay))) AND \(binder.bind(.date(period.lastDay)))"
        ]
        for filter in query.filters + parameterFilters {
            conditions.append(try condition(filter, dataset, &binder))
        }
        conditions += dimensionColumns.map { "\($0.quoted) IS NOT NULL" }
        let measures = try plannedMeasures(query, dataset, largest: max(2, rules.dominanceN), &binder)

        let statement = Statement(
            view: view, person: person, recordKey: recordKey, dimensions: dimensionColumns, sets: sets.map { $0.map { dimensionColumns[$0] } },
            measures: measures, conditions: conditions)
        return CompiledQuery(
            queryID: query.id, sql: statement.sql, binds: binder.binds, columns: statement.columns, dimensions: dimensions,
            measures: measures.map { TableMeasure(name: $0.name.name, kind: $0.kind, value: $0.valueColumn) },
            groupingSets: sets.map { $0.map { dimensions[$0].name } },
            population: PopulationFrame(query, dataset: dataset, period: period, parameterFilters: parameterFilters))
    }

    /// Refuses a query that names the dataset's record key as a dimension, measure or filter (the policy loader refuses
    /// such a catalogue already; this keeps the compiler safe on its own).
    private static func refuseRecordKey(_ query: VettedQuery, parameterFilters: [QueryFilter], _ dataset: Dataset) throws(QueryError) {
        let filterNames = (query.filters + parameterFilters).map { filter in
            switch filter {
            case .dimension(let name, _), .flag(let name, _): name
            }
        }
        guard !(query.dimensions + query.measures + filterNames).contains(dataset.recordKey) else {
            throw .invalidCatalogue("query \(query.id) names the record key of dataset \(dataset.id), which is only ever summed into cell keys")
        }
    }

    /// The view as `"schema"."name"`, each part checked.
    private static func viewName(_ dataset: Dataset) throws(QueryError) -> String {
        let parts = dataset.view.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw .invalidCatalogue("the view of dataset \(dataset.id) is not schema-qualified") }
        let schema = try SQLIdentifier(parts[0], "the view schema of dataset \(dataset.id)")
        let name = try SQLIdentifier(parts[1], "the view of dataset \(dataset.id)")
        return "\(schema.quoted).\(name.quoted)"
    }

    /// The query's dimensions as table dimensions; a dimension's parent is kept only when the query also groups by it.
    private static func tableDimensions(_ query: VettedQuery, _ dataset: Dataset) throws(QueryError) -> [TableDimension] {
        guard !query.dimensions.isEmpty else { throw .invalidCatalogue("query \(query.id) has no dimensions") }
        guard Set(query.dimensions).count == query.dimensions.count else {
            throw .invalidCatalogue("query \(query.id) lists a dimension twice")
        }
        var result: [TableDimension] = []
        for name in query.dimensions {
            guard let dimension = dataset.dimension(named: name) else {
                throw .invalidCatalogue("'\(name)' is not a dimension of dataset \(dataset.id)")
            }
            let parent = dimension.parent.flatMap { query.dimensions.contains($0) ? $0 : nil }
            result.append(TableDimension(name: name, partitionsPersons: dimension.partitionsPersons, parent: parent))
        }
        return result
    }

    /// The hierarchies among `dimensions` as index chains, coarsest first (`[region_code, la_code]`), in query order of
    /// their roots; a dimension without parent or child is a chain of one.
    private static func hierarchyChains(_ dimensions: [TableDimension]) throws(QueryError) -> [[Int]] {
        let index = Dictionary(uniqueKeysWithValues: dimensions.enumerated().map { ($1.name, $0) })
        var child: [Int: Int] = [:]
        for (i, dimension) in dimensions.enumerated() {
            guard let parent = dimension.parent.flatMap({ index[$0] }) else { continue }
            guard child.updateValue(i, forKey: parent) == nil else {
                throw .invalidCatalogue("dimension \(dimensions[parent].name) has more than one child level in the query")
            }
        }
        var chains: [[Int]] = []
        for (i, dimension) in dimensions.enumerated() where dimension.parent == nil {
            var chain = [i]
            while let next = child[chain.last!] { chain.append(next) }
            chains.append(chain)
        }
        guard chains.joined().count == dimensions.count else { throw .invalidCatalogue("the query's dimension hierarchy has a cycle") }
        return chains
    }

    /// Every combination of one level per chain (a level is a prefix of the chain, from all of it down to none), as
    /// dimension indices in query order, finest first; the last is the grand total `[]`.
    private static func groupingSets(_ chains: [[Int]]) -> [[Int]] {
        var sets: [[Int]] = [[]]
        for chain in chains {
            sets = sets.flatMap { set in (0...chain.count).reversed().map { set + chain.prefix($0) } }
        }
        return sets.map { $0.sorted() }
    }

    /// The query's measures, checked against the dataset; the first sum binds `largest`, the number of largest
    /// per-person contributions every sum returns.
    private static func plannedMeasures(
        _ query: VettedQuery, _ dataset: Dataset, largest: Int, _ binder: inout Binder
    ) throws(QueryError) -> [PlannedMeasure] {
        guard Set(query.measures).count == query.measures.count else { throw .invalidCatalogue("query \(query.id) lists a measure twice") }
        var result: [PlannedMeasure] = []
        var largestPlaceholder: String? = nil
        for name in query.measures {
            guard let measure = dataset.measure(named: name) else {
                throw .invalidCatalogue("'\(name)' is not a measure of dataset \(dataset.id)")
            }
            let identifier = try SQLIdentifier(name, "measure")
            func magnitude(_ column: String) throws(QueryError) -> SQLIdentifier {
                guard dataset.magnitudes.contains(where: { $0.name == column }) else {
                    throw .invalidCatalogue("measure \(name) uses \(column), which is not a magnitude column of dataset \(dataset.id)")
                }
                return try SQLIdentifier(column, "the column of measure \(name)")
            }
            func flag(_ column: String) throws(QueryError) -> SQLIdentifier {
                guard dataset.flag(named: column) != nil else {
                    throw .invalidCatalogue("measure \(name) uses \(column), which is not a flag column of dataset \(dataset.id)")
                }
                return try SQLIdentifier(column, "a flag of measure \(name)")
            }
            let plan: MeasurePlan
            switch measure.formula {
            case .persons: plan = .persons
            case .events: plan = .events
            case .sum(let column):
                let placeholder = largestPlaceholder ?? binder.bind(.integer(largest))
                largestPlaceholder = placeholder
                plan = .sum(try magnitude(column), largest: placeholder)
            case .mean(let column): plan = .mean(try magnitude(column))
            case .median(let column): plan = .median(try magnitude(column))
            case .rate(let numerator, let denominator):
                plan = .rate(numerator: try flag(numerator), denominator: try denominator.map { (d) throws(QueryError) in try flag(d) })
            }
            result.append(PlannedMeasure(name: identifier, kind: measure.formula.kind, plan: plan))
        }
        return result
    }

    /// One `WHERE` condition for a filter, its values bound.
    private static func condition(_ filter: QueryFilter, _ dataset: Dataset, _ binder: inout Binder) throws(QueryError) -> String {
        switch filter {
        case .dimension(let name, let values):
            guard dataset.dimension(named: name) != nil else {
                throw .invalidCatalogue("a filter uses '\(name)', which is not a dimension of dataset \(dataset.id)")
            }
            return "\(try SQLIdentifier(name, "filter dimension").quoted) = ANY(\(binder.bind(.textArray(values))))"
        case .flag(let name, let equals):
            guard dataset.flag(named: name) != nil else {
                throw .invalidCatalogue("a filter uses '\(name)', which is not a flag column of dataset \(dataset.id)")
            }
            return "\(try SQLIdentifier(name, "filter flag").quoted) = \(binder.bind(.boolean(equals)))"
        }
    }
}

/// Collects bound values and hands out their placeholders.
private struct Binder {
    private(set) var binds: [QueryBind] = []

    /// Appends `value` and returns its placeholder with a cast, `$n::type`.
    mutating func bind(_ value: QueryBind) -> String {
        binds.append(value)
        return "$\(binds.count)::\(value.sqlType)"
    }
}

/// How one measure is computed.
private enum MeasurePlan {
    case persons
    case events
    /// `largest` is the placeholder of the number of largest contributions to return.
    case sum(SQLIdentifier, largest: String)
    case mean(SQLIdentifier)
    case median(SQLIdentifier)
    case rate(numerator: SQLIdentifier, denominator: SQLIdentifier?)
}

/// A measure of the query with its validated name and plan.
private struct PlannedMeasure {
    let name: SQLIdentifier
    let kind: MeasureKind
    let plan: MeasurePlan

    var isSum: Bool {
        if case .sum = plan { true } else { false }
    }

    /// The magnitude column a sum, mean or median summarises; `nil` for counts and rates.
    var valueColumn: String? {
        switch plan {
        case .sum(let column, _), .mean(let column), .median(let column): column.name
        case .persons, .events, .rate: nil
        }
    }

}

/// One output column of a measure: its alias, type, meaning and defining expression.
private struct MeasureColumn {
    let alias: String
    let type: ResultType
    let meaning: String
    let expression: String
}

/// The SQL text of a compiled query and its result columns.
private struct Statement {
    let view: String
    let person: SQLIdentifier
    let recordKey: SQLIdentifier
    let dimensions: [SQLIdentifier]
    let sets: [[SQLIdentifier]]
    let measures: [PlannedMeasure]
    let conditions: [String]

    private static let indent = "    "

    var columns: [ResultColumn] {
        let bits = "1 marks a total over that dimension, most significant bit first"
        var result = [ResultColumn(name: QueryCompiler.groupingColumn, type: .integer, meaning: "GROUPING(\(names(dimensions))): \(bits)")]
        result += dimensions.map { ResultColumn(name: $0.name, type: .text, meaning: "value of \($0.name); NULL in a total over it") }
        for measure in measures {
            result += measureColumns(measure).map { ResultColumn(name: $0.alias, type: $0.type, meaning: $0.meaning) }
        }
        return result
    }

    var sql: String {
        measures.contains(where: \.isSum) ? withPersonTotals : singlePass
    }

    /// Without sums: one grouped scan of the view.
    private var singlePass: String {
        let selectList =
            [groupingExpression + " AS " + quote(QueryCompiler.groupingColumn)] + dimensions.map(\.quoted)
            + measures.flatMap { measureColumns($0).map { "\($0.expression) AS \(quote($0.alias))" } }
        return """
            SELECT \(selectList.joined(separator: ",\n       "))
            FROM \(view)
            WHERE \(conditions.joined(separator: "\n  AND "))
            GROUP BY GROUPING SETS (
            \(groupingSetList(extra: [], indent: Self.indent))
            )
            ORDER BY \(orderBy(prefix: ""))
            """
    }

    /// With sums: the filtered rows once (`base`), row-level measures per cell (`cells`), each person's total per cell
    /// (`person_totals`), the sums per cell (`magnitudes`), joined on the grouping bits and dimension values.
    private var withPersonTotals: String {
        let columnsRead = dimensions + [person, recordKey] + measures.flatMap { $0.columnsRead }
        var seen: Set<String> = []
        let baseList = columnsRead.filter { seen.insert($0.name).inserted }.map(\.quoted)
        let rowMeasures = measures.filter { !$0.isSum }
        let cellsList =
            [groupingExpression + " AS " + quote(QueryCompiler.groupingColumn)] + dimensions.map(\.quoted)
            + rowMeasures.flatMap { measureColumns($0).map { "\($0.expression) AS \(quote($0.alias))" } }
        let sums = measures.filter(\.isSum)
        let personTotalsList =
            [groupingExpression + " AS " + quote(QueryCompiler.groupingColumn)] + dimensions.map(\.quoted) + [person.quoted, recordKey.quoted]
            + sums.flatMap { m in m.columnsRead.map { "sum(\($0.quoted)) AS \(quote(personTotal(m)))" } }
        let magnitudesList =
            [quote(QueryCompiler.groupingColumn)] + dimensions.map(\.quoted)
            + sums.flatMap { measureColumns($0).map { "\($0.expression) AS \(quote($0.alias))" } }
        let finalList =
            ["c." + quote(QueryCompiler.groupingColumn)] + dimensions.map { "c." + $0.quoted }
            + measures.flatMap { m in measureColumns(m).map { (m.isSum ? "m." : "c.") + quote($0.alias) } }
        let join =
            ["m.\(quote(QueryCompiler.groupingColumn)) = c.\(quote(QueryCompiler.groupingColumn))"]
            + dimensions.map { "m.\($0.quoted) IS NOT DISTINCT FROM c.\($0.quoted)" }
        let i = Self.indent
        return """
            WITH base AS (
                SELECT \(baseList.joined(separator: ", "))
                FROM \(view)
                WHERE \(conditions.joined(separator: "\n\(i)  AND "))
            ),
            cells AS (
                SELECT \(cellsList.joined(separator: ",\n\(i)       "))
                FROM base
                GROUP BY GROUPING SETS (
            \(groupingSetList(extra: [], indent: i + i))
                )
            ),
            person_totals AS (
                SELECT \(personTotalsList.joined(separator: ",\n\(i)       "))
                FROM base
                GROUP BY GROUPING SETS (
            \(groupingSetList(extra: [person, recordKey], indent: i + i))
                )
            ),
            magnitudes AS (
                SELECT \(magnitudesList.joined(separator: ",\n\(i)       "))
                FROM person_totals
                GROUP BY \(([quote(QueryCompiler.groupingColumn)] + dimensions.map(\.quoted)).joined(separator: ", "))
            )
            SELECT \(finalList.joined(separator: ",\n       "))
            FROM cells c
            LEFT JOIN magnitudes m ON \(join.joined(separator: "\n    AND "))
            ORDER BY \(orderBy(prefix: "c."))
            """
    }

    private var groupingExpression: String { "GROUPING(\(names(dimensions)))" }

    private func groupingSetList(extra: [SQLIdentifier], indent: String) -> String {
        sets.map { set in indent + "(" + (set + extra).map(\.quoted).joined(separator: ", ") + ")" }
            .joined(separator: ",\n")
    }

    private func orderBy(prefix: String) -> String {
        dimensions.map { "\(prefix)\($0.quoted) COLLATE \"C\" NULLS LAST" }.joined(separator: ", ")
    }

    private func names(_ identifiers: [SQLIdentifier]) -> String { identifiers.map(\.quoted).joined(separator: ", ") }

    private func quote(_ alias: String) -> String { "\"\(alias)\"" }

    private func personTotal(_ measure: PlannedMeasure) -> String { "\(measure.name.name).person_total" }

    /// The output columns of `measure`; a sum's expressions read `person_totals`, every other measure's the rows.
    private func measureColumns(_ measure: PlannedMeasure) -> [MeasureColumn] {
        let m = measure.name.name
        let persons = "count(DISTINCT \(person.quoted))"
        switch measure.plan {
        case .persons:
            return [
                MeasureColumn(alias: "\(m).persons", type: .integer, meaning: "distinct persons", expression: persons),
                cellKey(m, "key", "the persons", where: nil),
            ]
        case .events:
            return [
                MeasureColumn(alias: "\(m).count", type: .integer, meaning: "rows (events)", expression: "count(*)"),
                MeasureColumn(alias: "\(m).persons", type: .integer, meaning: "distinct persons behind the rows", expression: persons),
                cellKey(m, "key", "the persons behind the rows", where: nil),
            ]
        case .sum(let column, let largest):
            let total = quote(personTotal(measure))
            return [
                MeasureColumn(
                    alias: "\(m).total", type: .double, meaning: "sum of \(column.name)", expression: "sum(\(total))::float8"),
                MeasureColumn(
                    alias: "\(m).persons", type: .integer, meaning: "persons contributing to the sum", expression: "count(\(total))"),
                MeasureColumn(
                    alias: "\(m).largest", type: .doubleArray, meaning: "largest per-person contributions, largest first",
                    expression: "(array_agg(\(total)::float8 ORDER BY \(total) DESC) FILTER (WHERE \(total) IS NOT NULL))[1:\(largest)]"),
                // One row per person and cell in person_totals: a plain sum adds each contributor's key once.
                MeasureColumn(
                    alias: "\(m).key", type: .integer, meaning: "cell key of the persons contributing to the sum",
                    expression: "coalesce(sum(\(recordKey.quoted)) FILTER (WHERE \(total) IS NOT NULL) % \(Self.cellKeyModulus), 0)::bigint"),
            ]
        case .mean(let column):
            return [
                MeasureColumn(alias: "\(m).value", type: .double, meaning: "mean of \(column.name)", expression: "avg(\(column.quoted))::float8"),
                MeasureColumn(
                    alias: "\(m).persons", type: .integer, meaning: "distinct persons behind the mean",
                    expression: "\(persons) FILTER (WHERE \(column.quoted) IS NOT NULL)"),
                MeasureColumn(
                    alias: "\(m).records", type: .integer, meaning: "rows with a value of \(column.name)", expression: "count(\(column.quoted))"),
                cellKey(m, "key", "the persons behind the mean", where: "\(column.quoted) IS NOT NULL"),
            ]
        case .median(let column):
            return [
                MeasureColumn(
                    alias: "\(m).value", type: .double, meaning: "median of \(column.name)",
                    expression: "percentile_cont(0.5) WITHIN GROUP (ORDER BY \(column.quoted)::float8)"),
                MeasureColumn(
                    alias: "\(m).persons", type: .integer, meaning: "distinct persons behind the median",
                    expression: "\(persons) FILTER (WHERE \(column.quoted) IS NOT NULL)"),
                cellKey(m, "key", "the persons behind the median", where: "\(column.quoted) IS NOT NULL"),
            ]
        case .rate(let numerator, let denominator):
            let among = denominator.map { "\(numerator.quoted) AND \($0.quoted)" } ?? numerator.quoted
            return [
                MeasureColumn(
                    alias: "\(m).numerator", type: .integer, meaning: "distinct persons with \(numerator.name) among the denominator",
                    expression: "\(persons) FILTER (WHERE \(among))"),
                MeasureColumn(
                    alias: "\(m).denominator", type: .integer,
                    meaning: denominator.map { "distinct persons with \($0.name)" } ?? "distinct persons",
                    expression: denominator.map { "\(persons) FILTER (WHERE \($0.quoted))" } ?? persons),
                cellKey(m, "key", "the denominator persons", where: denominator?.quoted),
                cellKey(m, "numerator_key", "the numerator persons", where: among),
            ]
        }
    }

    /// 2^32: cell keys are sums of record keys modulo this.
    private static let cellKeyModulus = "4294967296"

    /// The cell key of the distinct persons of the rows matching `condition` (all rows when nil): exactly the condition of
    /// the count it goes with. 0 when there are none.
    private func cellKey(_ measure: String, _ part: String, _ persons: String, where condition: String?) -> MeasureColumn {
        let filter = condition.map { " FILTER (WHERE \($0))" } ?? ""
        return MeasureColumn(
            alias: "\(measure).\(part)", type: .integer, meaning: "cell key of \(persons): their record keys summed modulo 2^32",
            expression: "coalesce(sum(DISTINCT \(recordKey.quoted))\(filter) % \(Self.cellKeyModulus), 0)::bigint")
    }
}

extension PlannedMeasure {
    /// The view columns the measure reads, besides the person key.
    fileprivate var columnsRead: [SQLIdentifier] {
        switch plan {
        case .persons, .events: []
        case .sum(let column, _), .mean(let column), .median(let column): [column]
        case .rate(let numerator, let denominator): [numerator] + (denominator.map { [$0] } ?? [])
        }
    }
}
