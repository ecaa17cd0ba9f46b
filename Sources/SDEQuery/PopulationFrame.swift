public import SDECommon
public import SDEDisclosure
public import SDEPolicy

/// What a compiled query's cells count, as populations for the differencing guard (DESIGN section 7). Pure.
///
/// A cell's population is the dataset view, the run's window (narrowed to the cell's quarter when a `quarter`
/// dimension has a value) and the conjunction of the query's fixed filters, the parameter filters, the cell's non-null
/// dimension values, and the measure's own condition: a rate's numerator and denominator flags, "value is not null"
/// for a sum, mean or median. A local authority (in a filter or a cell) implies its region, so that a local
/// authority's cells nest in its region's whatever query released them. A total over a dimension adds no condition:
/// rows with a null dimension value, which the statement leaves out, are taken as inside the total, which can only
/// make more pairs nested, never fewer.
///
/// ```swift
/// let compiled = try QueryCompiler.compile(run)
/// let populations = try compiled.population.populations(of: table, codes: policy.reference)
/// populations[0][0].persons.isNested(in: populations.last![0].persons)   // a cell in the grand total: true
/// ```
public struct PopulationFrame: Sendable, Hashable {
    /// The dataset id.
    public let dataset: String
    /// The run's first and last day.
    public let window: ClosedRange<CivilDate>
    /// The fixed and parameter filters as predicates (before implied parents).
    public let filters: [PopulationPredicate]
    /// The table's dimensions in query order: whether each is a quarter, which narrows the window, not a predicate.
    public let quarterDimensions: [Bool]
    /// Child dimension → parent dimension of the dataset's hierarchies (`la_code` → `region_code`).
    public let parents: [String: String]
    /// Per measure, in query order: the conditions of its persons, and of a rate's numerator.
    public let measures: [MeasureConditions]

    /// The frame of `query` over `dataset` for `period` with `parameterFilters`.
    init(_ query: VettedQuery, dataset: Dataset, period: QuarterRange, parameterFilters: [QueryFilter]) {
        self.dataset = dataset.id
        self.window = period.firstDay...period.lastDay
        self.filters = (query.filters + parameterFilters).map { filter in
            switch filter {
            case .dimension(let name, let values): PopulationPredicate(name, in: values)
            case .flag(let name, let equals): PopulationPredicate(name, in: [String(equals)])
            }
        }
        self.quarterDimensions = query.dimensions.map { dataset.dimension(named: $0)?.type == .quarter }
        self.parents = Dictionary(dataset.dimensions.compactMap { d in d.parent.map { (d.name, $0) } }, uniquingKeysWith: { first, _ in first })
        self.measures = query.measures.map { name in
            switch dataset.measure(named: name)?.formula {
            case .sum(let column), .mean(let column), .median(let column):
                return MeasureConditions(persons: [PopulationPredicate(notNull: column)])
            case .rate(let numerator, let denominator):
                let among = denominator.map { [PopulationPredicate($0, in: ["true"])] } ?? []
                return MeasureConditions(persons: among, numerator: among + [PopulationPredicate(numerator, in: ["true"])])
            case .persons, .events, nil:
                return MeasureConditions(persons: [])
            }
        }
    }

    /// The populations of every cell of `table` (this query's statistics), per row, per measure; a local authority's
    /// region comes from `codes`.
    public func populations(of table: StatisticsTable, codes: ReferenceCodes) throws(QueryError) -> [[CellPopulations]] {
        guard table.dimensions.count == quarterDimensions.count, table.measures.count == measures.count else {
            throw .unexpectedResult("a statistics table does not have the shape of query over \(dataset)")
        }
        var result: [[CellPopulations]] = []
        result.reserveCapacity(table.rows.count)
        for row in table.rows {
            var window = self.window
            var predicates = filters
            for (i, value) in row.dimensions.enumerated() {
                guard let value else { continue }
                if quarterDimensions[i] {
                    guard let quarter = Quarter(parsing: value) else { throw .unexpectedResult("a quarter cell of \(dataset) is not a quarter") }
                    let from = max(window.lowerBound, quarter.firstDay), to = min(window.upperBound, quarter.lastDay)
                    guard from <= to else { throw .unexpectedResult("a quarter cell of \(dataset) lies outside the run's window") }
                    window = from...to
                } else {
                    predicates.append(PopulationPredicate(table.dimensions[i].name, in: [value]))
                }
            }
            let cell = Population(dataset: dataset, window: window, predicates: withParents(predicates, codes))
            result.append(measures.map { CellPopulations(persons: cell.and($0.persons), numerator: $0.numerator.map { cell.and($0) }) })
        }
        return result
    }

    /// `predicates` with the condition each implies on its dimension's parent: a set of local authorities implies the set
    /// of their regions (or, when a code is not in `codes`, that the region is not null).
    private func withParents(_ predicates: [PopulationPredicate], _ codes: ReferenceCodes) -> [PopulationPredicate] {
        var result = predicates
        for predicate in predicates {
            guard let parent = parents[predicate.column] else { continue }
            let regions = predicate.values.map { $0.map(codes.region(of:)) }
            if let regions, regions.allSatisfy({ $0 != nil }) {
                result.append(PopulationPredicate(parent, in: regions.compactMap { $0 }))
            } else {
                result.append(PopulationPredicate(notNull: parent))
            }
        }
        return result
    }
}

/// A measure's own conditions on the rows it counts.
public struct MeasureConditions: Sendable, Hashable {
    /// The conditions of the persons the cell describes (a rate's denominator flag; a value's "not null").
    public let persons: [PopulationPredicate]
    /// A rate's numerator conditions (its flag, and the denominator's); `nil` for other measures.
    public let numerator: [PopulationPredicate]?

    /// Conditions as given.
    public init(persons: [PopulationPredicate], numerator: [PopulationPredicate]? = nil) {
        self.persons = persons
        self.numerator = numerator
    }
}
