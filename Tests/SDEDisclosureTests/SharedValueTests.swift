import SDEDisclosure
import Testing

/// A sum and a mean (or median) of the same value in one table: the released mean must not narrow the suppressed sum.
@Suite struct SharedValueTests {
    let control = DisclosureControl(rules: DisclosureRules())

    /// Weekly cost by sex: F's total is dominated by one person; its mean and median are not sensitive on their own.
    func table() -> StatisticsTable {
        func sum(_ total: Double, _ persons: Int, _ top: [Double]) -> CellStatistic {
            .sum(MagnitudeStatistic(total: total, persons: persons, largest: top))
        }
        return StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)],
            measures: [
                TableMeasure(name: "persons", kind: .persons),
                TableMeasure(name: "total_cost", kind: .sum, value: "weekly_cost"),
                TableMeasure(name: "mean_cost", kind: .mean, value: "weekly_cost"),
                TableMeasure(name: "median_cost", kind: .median, value: "weekly_cost"),
                TableMeasure(name: "median_hours", kind: .median, value: "planned_hours"),
            ],
            rows: [
                StatisticsRow(
                    dimensions: ["F"],
                    cells: [.persons(200), sum(10_000, 200, [9_500, 100]), .mean(value: 50, persons: 200, records: 200), .median(value: 3, persons: 200), .median(value: 6, persons: 200)]),
                StatisticsRow(
                    dimensions: ["M"],
                    cells: [.persons(220), sum(12_000, 220, [900, 800]), .mean(value: 54.5, persons: 220, records: 220), .median(value: 40, persons: 220), .median(value: 7, persons: 220)]),
                StatisticsRow(
                    dimensions: ["X"],
                    cells: [.persons(250), sum(30_000, 250, [1_000, 900]), .mean(value: 120, persons: 250, records: 250), .median(value: 110, persons: 250), .median(value: 8, persons: 250)]),
                StatisticsRow(
                    dimensions: [nil],
                    cells: [.persons(670), sum(52_000, 670, [9_500, 1_000]), .mean(value: 77.6, persons: 670, records: 670), .median(value: 60, persons: 670), .median(value: 7, persons: 670)]),
            ])
    }

    @Test func aMeanOrMedianBesideASuppressedSumOfTheSameValueIsWithheld() throws {
        let protected = try control.protect(table())
        let rules = { (measure: Int) in protected.rows.map { $0.cells[measure].rule } }
        #expect(rules(1) == [.dominance, .secondary, nil, nil])
        // Without the rule F's mean (50 over 198 to 202 persons: a total of at least 9,900) would pin the dominated
        // total to within 1% when the audit requires an interval of at least p = 10% of it (1,000).
        #expect(rules(2) == [.secondary, .secondary, nil, nil])
        #expect(rules(3) == [.secondary, .secondary, nil, nil])
        // A median of another value says nothing about the cost total.
        #expect(rules(4) == [nil, nil, nil, nil])
        #expect(rules(0) == [nil, nil, nil, nil])
        #expect(protected.summary.suppressed == [.dominance: 1, .secondary: 5])
    }

    @Test func theLeakTheRuleCloses() throws {
        // What an attacker deduces from F's released mean and rounded person count, against the width the audit demands.
        let rules = DisclosureRules()
        let persons = rules.roundingInterval(of: rules.roundedCount(200))
        let implied = (50 * Double(persons.lowerBound))...(50 * Double(persons.upperBound))
        let required = try #require(try control.protect(table()).audit.interval(at: CellPosition(row: 0, measure: 1))).requiredWidth
        #expect(implied.upperBound - implied.lowerBound < required)
        #expect(implied.contains(10_000))
    }
}
