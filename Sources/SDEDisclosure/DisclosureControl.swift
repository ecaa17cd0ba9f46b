/// Statistical disclosure control of one table under one profile (DESIGN section 7): primary rules, the differencing
/// guard, secondary suppression and the attacker audit. Pure: no I/O, no shared state.
///
/// ```swift
/// let control = DisclosureControl(rules: DisclosureRules())
/// let protected = try control.protect(table, differencing: DifferencingInput(cells: populations, earlier: ledgerPopulations))
/// protected.rows[0].cells[0]   // e.g. .perturbed(.integer(47)) or .suppressed(.threshold)
/// protected.summary            // released, perturbed, rounded, suppressed by rule
/// ```
///
/// Released values are formed in one place, ``ReleasedValues``: under the cell-key method counts carry bounded,
/// unbiased noise keyed by their population (status `perturbed`), under the rounding method they are rounded (status
/// `rounded` whenever the base exceeds 1, even when the count was already a multiple); a true zero released under a
/// profile where zeros are not disclosive is `released` as 0. Sums, means and rates are formed from protected
/// components only, and medians go to the whole unit.
///
/// Persons, events, magnitudes and rates (numerator and denominator) are additive, so their suppression patterns go
/// through secondary suppression and the ``AuditReport`` criterion; means and medians are not: they have their primary
/// rules, and are withheld (`secondary`) wherever a sum of the same value (``TableMeasure/value``) in their row is
/// suppressed, because a mean or median beside a person count narrows that total.
/// A table whose audit still fails after repair is refused with ``DisclosureError/auditFailed(_:)``.
public struct DisclosureControl: Sendable {
    /// The profile's rules.
    public let rules: DisclosureRules

    /// Disclosure control under `rules`.
    public init(rules: DisclosureRules) {
        self.rules = rules
    }

    /// Protects `table`: every cell gets a status, sensitive cells and enough partners are suppressed, and the
    /// suppression pattern passes the attacker audit. `differencing` holds the cells' populations and the ledger's
    /// populations released earlier (see ``differencingSuppressions(_:_:)``); without it no cell is compared.
    public func protect(_ table: StatisticsTable, differencing: DifferencingInput? = nil) throws(DisclosureError) -> ProtectedTable {
        try rules.validate()
        let structure = try TableStructure(validating: table, rules: rules)
        let values = ReleasedValues(rules: rules)
        var ruleOf = primaryRules(table)
        for position in try differencingSuppressions(table, differencing, ruleOf) where ruleOf[position.measure][position.row] == nil {
            ruleOf[position.measure][position.row] = .differencing
        }
        var audited: [AuditedCell] = []
        // Persons and the events of the same persons bound each other (persons <= events), so they are withheld
        // together; withholding more can call for more partners, so the measures are protected until nothing changes.
        let linked = linkedCountMeasures(table.measures)
        // What each released cell would tell an attacker does not change between rounds: build it once.
        let componentsOf = table.measures.indices.map { AdditiveComponent.components(of: table, measure: $0, values: values) }
        var changed = true
        while changed {
            changed = false
            audited = []
            for measure in table.measures.indices {
                let components = componentsOf[measure]
                guard !components.isEmpty else { continue }
                var suppressed = ruleOf[measure].map { $0 != nil }
                guard let cells = try SecondarySuppression(structure: structure, components: components).protect(&suppressed) else {
                    throw .auditFailed("measure \(table.measures[measure].name): suppressed cells stay recomputable from the table's totals")
                }
                for row in suppressed.indices where suppressed[row] && ruleOf[measure][row] == nil { ruleOf[measure][row] = .secondary }
                audited += cells
            }
            for (a, b) in linked {
                for row in table.rows.indices where (ruleOf[a][row] == nil) != (ruleOf[b][row] == nil) {
                    if ruleOf[a][row] == nil { ruleOf[a][row] = .secondary } else { ruleOf[b][row] = .secondary }
                    changed = true
                }
            }
        }
        for position in sharedValueSuppressions(table.measures, ruleOf) { ruleOf[position.measure][position.row] = .secondary }
        let rows = table.rows.enumerated().map { r, row in
            ProtectedRow(
                dimensions: row.dimensions,
                cells: row.cells.enumerated().map { m, statistic in
                    ruleOf[m][r].map(ProtectedCell.suppressed) ?? values.release(statistic, key: row.key(m))
                })
        }
        return ProtectedTable(
            rules: rules, dimensions: table.dimensions, measures: table.measures, rows: rows, summary: DisclosureSummary(rows: rows),
            audit: AuditReport(cells: audited.sorted { ($0.position, $0.component.rawValue) < ($1.position, $1.component.rawValue) }))
    }

    /// The primary rule of every cell that fires one (threshold, zero, dominance, p%), before differencing and
    /// secondary suppression.
    public func primarySuppressions(_ table: StatisticsTable) throws(DisclosureError) -> [CellPosition: SuppressionRule] {
        try rules.validate()
        _ = try TableStructure(validating: table, rules: rules)
        var result: [CellPosition: SuppressionRule] = [:]
        for (m, rules) in primaryRules(table).enumerated() {
            for (r, rule) in rules.enumerated() { if let rule { result[CellPosition(row: r, measure: m)] = rule } }
        }
        return result
    }

    /// The attacker audit of an arbitrary suppression pattern, for example to show that a pattern without secondary
    /// suppression is unsafe. `suppressed` must contain every primary suppression (a released sensitive cell is not a
    /// pattern this engine could produce); cells of means and medians are not audited.
    public func audit(_ table: StatisticsTable, suppressed: Set<CellPosition>) throws(DisclosureError) -> AuditReport {
        try rules.validate()
        let structure = try TableStructure(validating: table, rules: rules)
        for position in suppressed where !table.rows.indices.contains(position.row) || !table.measures.indices.contains(position.measure) {
            throw .invalidTable("\(position) is not a cell of the table")
        }
        let primary = primaryRules(table)
        var audited: [AuditedCell] = []
        let values = ReleasedValues(rules: rules)
        for measure in table.measures.indices {
            let flags = table.rows.indices.map { suppressed.contains(CellPosition(row: $0, measure: measure)) }
            if let row = flags.indices.first(where: { primary[measure][$0] != nil && !flags[$0] }) {
                throw .invalidTable("the pattern releases row \(row) of \(table.measures[measure].name), which a primary rule suppresses")
            }
            for component in AdditiveComponent.components(of: table, measure: measure, values: values) {
                audited += try component.audit(structure: structure, suppressed: flags)
            }
        }
        return AuditReport(cells: audited.sorted { ($0.position, $0.component.rawValue) < ($1.position, $1.component.rawValue) })
    }

    /// Pairs of measures counting the same persons, one as persons and one as the events behind them: a released
    /// event count caps a withheld person count of its row (persons <= events), and a released person count floors a
    /// withheld event count, so each pair is withheld row by row together.
    func linkedCountMeasures(_ measures: [TableMeasure]) -> [(Int, Int)] {
        let persons = measures.indices.filter { measures[$0].kind == .persons }
        let events = measures.indices.filter { measures[$0].kind == .events }
        return persons.flatMap { p in events.map { (p, $0) } }
    }

    /// Means and medians to withhold because a sum of the same value in the same row is suppressed.
    ///
    /// A mean (or median) of a value bounds the total of that value from the persons count released beside it: with
    /// `n` persons behind it (known to within the rounding interval), a mean `m` of per-person or per-record values
    /// puts the total at `m × n` or above, and a median `m` puts it at `m × n / 2` or above (half the values are at
    /// least `m`, none is negative). Either can narrow a suppressed total far below the width the attacker audit
    /// required of it. Withholding the mean or median wherever the sum is withheld is sufficient for the sums: every
    /// released mean then sits in a row whose sum is released too, where it says nothing about any total the table
    /// does not already state, so the audited intervals of the suppressed sums stand. Means and medians are not
    /// additive, so withholding them needs no further partners.
    func sharedValueSuppressions(_ measures: [TableMeasure], _ ruleOf: [[SuppressionRule?]]) -> [CellPosition] {
        var result: [CellPosition] = []
        for (m, measure) in measures.enumerated() where measure.kind == .mean || measure.kind == .median {
            guard let value = measure.value else { continue }
            let sums = measures.indices.filter { measures[$0].kind == .sum && measures[$0].value == value }
            for row in ruleOf[m].indices where ruleOf[m][row] == nil {
                if sums.contains(where: { ruleOf[$0][row] != nil }) { result.append(CellPosition(row: row, measure: m)) }
            }
        }
        return result
    }

    /// Primary rule per measure, per row.
    private func primaryRules(_ table: StatisticsTable) -> [[SuppressionRule?]] {
        table.measures.indices.map { m in table.rows.map { rules.primaryRule(for: $0.cells[m]) } }
    }
}
