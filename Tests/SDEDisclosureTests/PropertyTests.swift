import SDEDisclosure
import Testing

/// Random tables built from synthetic person-level records (so margins are true distinct counts).
@Suite struct PropertyTests {
    struct Case: CustomTestStringConvertible {
        let seed: UInt64
        let table: StatisticsTable
        let rules: DisclosureRules
        var testDescription: String { "seed \(seed)" }
    }

    /// 200 tables of varying shape and profile.
    static let cases: [Case] = (0..<200).map { i in
        let seed = UInt64(i) &* 7919 &+ 17
        var rng = SeededGenerator(seed: seed)
        let data = Microdata.random(
            regions: Int.random(in: 1...3, using: &rng), lasPerRegion: Int.random(in: 1...4, using: &rng),
            quarters: Int.random(in: 1...4, using: &rng), persons: Int.random(in: 15...250, using: &rng), using: &rng)
        let rules = DisclosureRules(
            threshold: [5, 10].randomElement(using: &rng)!, roundingBase: [1, 5].randomElement(using: &rng)!,
            zerosDisclosive: Bool.random(using: &rng))
        return Case(seed: seed, table: data.table(bySex: Bool.random(using: &rng)), rules: rules)
    }

    @Test(arguments: cases)
    func theAuditPassesAfterSecondarySuppression(_ c: Case) throws {
        let control = DisclosureControl(rules: c.rules)
        let protected = try control.protect(c.table)
        #expect(protected.audit.passed)
        let pattern = suppressedPositions(protected)
        let primary = try control.primarySuppressions(c.table)
        #expect(Set(primary.keys).isSubset(of: pattern))
        for (position, rule) in primary { #expect(protected[position].rule == rule) }
        for position in pattern { #expect(protected[position].value == nil) }
        // An independent audit of the released pattern agrees, and every interval contains the truth.
        let report = try control.audit(c.table, suppressed: pattern)
        #expect(report.passed)
        #expect(report == protected.audit)
        for cell in report.cells {
            let truth = trueValue(c.table.rows[cell.position.row].cells[cell.position.measure])
            #expect(cell.minimum <= truth + 1e-6 && truth <= cell.maximum + 1e-6)
        }
        #expect(protected.summary.released + protected.summary.rounded + protected.summary.suppressedTotal == c.table.rows.count * 3)
    }

    @Test func theAuditCatchesALoneCellUnderAMargin() throws {
        // Exact counts (base 1): suppress one more LA cell whose region total and sibling LAs are all released; the
        // attacker recomputes it exactly. Most random tables have such a cell; all of those must fail the audit.
        var exercised = 0
        for c in Self.cases {
            let rules = DisclosureRules(threshold: c.rules.threshold, roundingBase: 1, zerosDisclosive: c.rules.zerosDisclosive)
            let control = DisclosureControl(rules: rules)
            let persons = StatisticsTable(
                dimensions: c.table.dimensions, measures: [c.table.measures[0]],
                rows: c.table.rows.map { StatisticsRow(dimensions: $0.dimensions, cells: [$0.cells[0]]) })
            let primary = Set(try control.primarySuppressions(persons).keys)
            let lone = persons.rows.indices.first { row in
                let values = persons.rows[row].dimensions
                guard values[1] != nil, !primary.contains(CellPosition(row: row, measure: 0)) else { return false }
                // The LA's relation: its region total and the region's LAs, at the same quarter (and sex).
                let relation = persons.rows.indices.filter { other in
                    let o = persons.rows[other].dimensions
                    return o[0] == values[0] && o.dropFirst(2) == values.dropFirst(2)
                }
                return relation.allSatisfy { !primary.contains(CellPosition(row: $0, measure: 0)) }
            }
            guard let lone else { continue }
            exercised += 1
            let position = CellPosition(row: lone, measure: 0)
            let report = try control.audit(persons, suppressed: primary.union([position]))
            #expect(!report.passed, "seed \(c.seed)")
            #expect(report.interval(at: position)!.width < 1e-6, "seed \(c.seed)")
        }
        #expect(exercised >= 100)
    }

    private func trueValue(_ statistic: CellStatistic) -> Double {
        switch statistic {
        case .persons(let n): Double(n)
        case .events(let count, _): Double(count)
        case .sum(let m): m.total
        default: .nan
        }
    }
}
