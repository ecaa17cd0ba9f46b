/// A cell released earlier by the same vetted query over a date window nested in, or containing, this one: the true
/// person counts the release ledger holds for it.
public struct PriorCell: Sendable, Hashable {
    /// Dimension values in the table's dimension order (the same vetted query has the same order); `nil` is a total.
    public var dimensions: [String?]
    /// The measure's name.
    public var measure: String
    /// True distinct persons the released cell described (for a rate, its denominator).
    public var persons: Int
    /// For a rate, the true numerator persons; otherwise `nil`.
    public var numeratorPersons: Int?

    /// Creates a prior cell.
    public init(dimensions: [String?], measure: String, persons: Int, numeratorPersons: Int? = nil) {
        self.dimensions = dimensions
        self.measure = measure
        self.persons = persons
        self.numeratorPersons = numeratorPersons
    }
}

extension DisclosureControl {
    /// The cells of `table` that differ from a prior release of the same cell by 1 to `threshold - 1` persons (in
    /// persons, or for a rate in its numerator or denominator): releasing both would single out that handful of
    /// people. A difference of 0 or of at least `threshold` is safe. Prior cells naming no row or measure of `table`
    /// are ignored.
    public func differencingSuppressions(_ table: StatisticsTable, priorCells: [PriorCell]) throws(DisclosureError) -> Set<CellPosition> {
        try rules.validate()
        return differencingSuppressions(table, try TableStructure(validating: table, rules: rules), priorCells)
    }

    func differencingSuppressions(_ table: StatisticsTable, _ structure: TableStructure, _ priorCells: [PriorCell]) -> Set<CellPosition> {
        let measureIndex = Dictionary(table.measures.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let unsafe = 1..<rules.threshold
        var result: Set<CellPosition> = []
        for prior in priorCells {
            guard let row = structure.rowIndex[prior.dimensions], let measure = measureIndex[prior.measure] else { continue }
            let cell = table.rows[row].cells[measure]
            var differences = [abs(cell.persons - prior.persons)]
            if let now = cell.numeratorPersons, let then = prior.numeratorPersons { differences.append(abs(now - then)) }
            if differences.contains(where: unsafe.contains) { result.insert(CellPosition(row: row, measure: measure)) }
        }
        return result
    }
}
