/// The populations one cell of a table describes: its persons (a sum's contributors, a mean's persons with a value,
/// a rate's denominator) and, for a rate, its numerator.
public struct CellPopulations: Sendable, Hashable {
    /// The persons the cell describes.
    public let persons: Population
    /// A rate's numerator persons; `nil` for other measures.
    public let numerator: Population?

    /// A cell's populations.
    public init(persons: Population, numerator: Population? = nil) {
        self.persons = persons
        self.numerator = numerator
    }
}

/// What the differencing guard compares a table with: the population of every cell, and the populations released
/// earlier (in any answer, by any vetted query, project or release) that may be nested with them.
///
/// ```swift
/// let guardInput = DifferencingInput(cells: frame.populations(of: table), earlier: ledger.populations)
/// let protected = try DisclosureControl(rules: rules).protect(table, differencing: guardInput)
/// ```
public struct DifferencingInput: Sendable, Hashable {
    /// Per row of the table, per measure: the cell's populations.
    public var cells: [[CellPopulations]]
    /// Populations released earlier, with their true counts then. Those not nested with any cell are ignored.
    public var earlier: Set<CountedPopulation>

    /// The guard's input.
    public init(cells: [[CellPopulations]], earlier: Set<CountedPopulation> = []) {
        self.cells = cells
        self.earlier = earlier
    }

    /// Every population of `table`'s cells with its true count (a rate gives two), in row and measure order.
    public func counted(_ table: StatisticsTable) -> [CountedPopulation] {
        counted(table, where: { _ in true }).map(\.counted)
    }

    /// The populations `protected` releases (cells released or rounded; suppressed cells revealed nothing) with the true
    /// counts of `table`, the statistics it was protected from: what the ledger records.
    public func released(_ protected: ProtectedTable, of table: StatisticsTable) -> [CountedPopulation] {
        counted(table, where: { protected.rows[$0.row].cells[$0.measure].status != .suppressed }).map(\.counted)
    }

    func counted(_ table: StatisticsTable, where include: (CellPosition) -> Bool) -> [(position: CellPosition, counted: CountedPopulation)] {
        var result: [(CellPosition, CountedPopulation)] = []
        for (r, row) in zip(cells.indices, table.rows) {
            for (m, statistic) in zip(cells[r].indices, row.cells) where include(CellPosition(row: r, measure: m)) {
                result.append((CellPosition(row: r, measure: m), CountedPopulation(cells[r][m].persons, persons: statistic.persons)))
                if let numerator = cells[r][m].numerator, let count = statistic.numeratorPersons {
                    result.append((CellPosition(row: r, measure: m), CountedPopulation(numerator, persons: count)))
                }
            }
        }
        return result
    }
}

extension DisclosureControl {
    /// The cells of `table` the differencing guard withholds: every cell whose population (either population of a
    /// rate) is nested with a population released earlier, or with the population of another cell of this table that
    /// contains it (any margin, not only its direct parents), where the two true counts differ by 1 to
    /// `threshold - 1` persons. Within the table the finer cell of such a pair is withheld. A difference of 0 or of
    /// at least `threshold` is safe. Cells a primary rule suppresses release nothing and are not compared.
    public func differencingSuppressions(_ table: StatisticsTable, _ input: DifferencingInput) throws(DisclosureError) -> Set<CellPosition> {
        let primary = try primarySuppressions(table)
        let ruleOf = table.measures.indices.map { m in table.rows.indices.map { primary[CellPosition(row: $0, measure: m)] } }
        return try differencingSuppressions(table, input, ruleOf)
    }

    /// The guard's suppressions given the primary rule of every cell (per measure, per row); none without an input.
    func differencingSuppressions(
        _ table: StatisticsTable, _ input: DifferencingInput?, _ ruleOf: [[SuppressionRule?]]
    ) throws(DisclosureError) -> Set<CellPosition> {
        guard let input else { return [] }
        guard input.cells.count == table.rows.count, input.cells.allSatisfy({ $0.count == table.measures.count }) else {
            throw .invalidTable("the differencing guard needs one population per cell of the table")
        }
        let unsafe = 1..<rules.threshold
        let ours = input.counted(table, where: { ruleOf[$0.measure][$0.row] == nil })
        var result: Set<CellPosition> = []
        // Across answers: an earlier population containing one of ours, or nested in it.
        var containerSets = ContainerTermSets()
        let earlier = PopulationIndex(Array(input.earlier))
        let oursIndex = PopulationIndex(ours.map(\.counted))
        for (position, cell) in ours where !result.contains(position) {
            for i in earlier.containerIndices(of: cell.population, &containerSets)
            where unsafe.contains(abs(earlier.populations[i].persons - cell.persons)) {
                result.insert(position)
                break
            }
        }
        for before in input.earlier {
            for i in oursIndex.containerIndices(of: before.population, &containerSets) where unsafe.contains(abs(ours[i].counted.persons - before.persons)) {
                result.insert(ours[i].position)
            }
        }
        // Within this answer: a cell and a margin containing it, both still released; the finer cell goes.
        for (i, (position, cell)) in ours.enumerated() where !result.contains(position) {
            for j in oursIndex.containerIndices(of: cell.population, &containerSets)
            where j != i && ours[j].position != position && !result.contains(ours[j].position) {
                if unsafe.contains(abs(ours[j].counted.persons - cell.persons)) {
                    result.insert(position)
                    break
                }
            }
        }
        return result
    }
}

/// Populations indexed by their term sets, to find a population's containers without comparing every pair.
struct PopulationIndex {
    let populations: [CountedPopulation]
    private let byTerms: [[String]: [Int]]

    init(_ populations: [CountedPopulation]) {
        self.populations = populations
        var byTerms: [[String]: [Int]] = [:]
        for (i, counted) in populations.enumerated() { byTerms[counted.population.terms, default: []].append(i) }
        self.byTerms = byTerms
    }

    /// Indices of the populations that contain `population` (equal ones included).
    func containerIndices(of population: Population, _ sets: inout ContainerTermSets) -> [Int] {
        sets.of(population).flatMap { byTerms[$0] ?? [] }.filter { population.isNested(in: populations[$0].population) }
    }
}

/// ``Population/containerTermSets`` computed once per term set (the cells of one table share a few).
struct ContainerTermSets {
    private var known: [[String]: [[String]]] = [:]

    mutating func of(_ population: Population) -> [[String]] {
        let terms = population.terms
        if let sets = known[terms] { return sets }
        let sets = population.containerTermSets
        known[terms] = sets
        return sets
    }
}
