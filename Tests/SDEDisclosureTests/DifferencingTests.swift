import SDEDisclosure
import Testing

@Suite struct DifferencingTests {
    let control = DisclosureControl(rules: DisclosureRules())

    @Test(arguments: [(40, false), (39, true), (31, true), (30, false), (29, false), (41, true), (49, true), (50, false)])
    func aNestedWindowDifferingBy1ToKMinus1IsSuppressed(priorPersons: Int, suppressed: Bool) throws {
        let table = oneWay([40, 30, 25])
        let prior = [PriorCell(dimensions: ["v0"], measure: "persons", persons: priorPersons)]
        let cells = try control.differencingSuppressions(table, priorCells: prior)
        #expect(cells == (suppressed ? [CellPosition(row: 0, measure: 0)] : []))
    }

    @Test func differencedCellsArePrimaryAndGetPartners() throws {
        let table = oneWay([40, 30, 25])
        let protected = try control.protect(table, priorCells: [PriorCell(dimensions: ["v0"], measure: "persons", persons: 38)])
        #expect(protected.rows.map(\.cells[0].rule) == [.differencing, nil, .secondary, nil])
        #expect(protected.summary.suppressed == [.differencing: 1, .secondary: 1])
        #expect(protected.audit.passed)
    }

    @Test func marginsAreGuardedToo() throws {
        let table = oneWay([40, 30, 25])
        let protected = try control.protect(table, priorCells: [PriorCell(dimensions: [nil], measure: "persons", persons: 100)])
        #expect(protected.rows[3].cells[0] == .suppressed(.differencing))
        #expect(protected.audit.passed)
        #expect(protected.summary.suppressedTotal == 2)
    }

    @Test func aCellAlreadySuppressedKeepsItsPrimaryRule() throws {
        let protected = try control.protect(oneWay([40, 3, 25]), priorCells: [PriorCell(dimensions: ["v1"], measure: "persons", persons: 2)])
        #expect(protected.rows[1].cells[0] == .suppressed(.threshold))
    }

    @Test func ratesCompareNumeratorsAndDenominators() throws {
        let table = StatisticsTable(
            dimensions: [], measures: [TableMeasure(name: "at_home", kind: .rate)],
            rows: [StatisticsRow(dimensions: [], cells: [.rate(numerator: 30, denominator: 50)])])
        let numerator = [PriorCell(dimensions: [], measure: "at_home", persons: 50, numeratorPersons: 29)]
        let denominator = [PriorCell(dimensions: [], measure: "at_home", persons: 48, numeratorPersons: 30)]
        let same = [PriorCell(dimensions: [], measure: "at_home", persons: 50, numeratorPersons: 30)]
        #expect(try control.differencingSuppressions(table, priorCells: numerator) == [CellPosition(row: 0, measure: 0)])
        #expect(try control.differencingSuppressions(table, priorCells: denominator) == [CellPosition(row: 0, measure: 0)])
        #expect(try control.differencingSuppressions(table, priorCells: same).isEmpty)
    }

    @Test func priorCellsOfOtherRowsOrMeasuresAreIgnored() throws {
        let prior = [
            PriorCell(dimensions: ["v9"], measure: "persons", persons: 39),
            PriorCell(dimensions: ["v0"], measure: "events", persons: 39),
        ]
        #expect(try control.differencingSuppressions(oneWay([40, 30]), priorCells: prior).isEmpty)
    }
}
