import SDEDisclosure
import Testing

@Suite struct SecondarySuppressionTests {
    let control = DisclosureControl(rules: DisclosureRules())

    @Test func aLoneSuppressedCellInARowWithAMarginGetsAPartner() throws {
        let table = oneWay([40, 3, 25])
        let protected = try control.protect(table)
        #expect(protected.rows.map(\.cells[0]) == [.rounded(.integer(40)), .suppressed(.threshold), .suppressed(.secondary), .rounded(.integer(70))])
        #expect(protected.summary.suppressed == [.threshold: 1, .secondary: 1])
        #expect(protected.audit.passed)
        // Without the partner, exact counts would give the cell away: 68 - 40 - 25.
        let exposed = try DisclosureControl(rules: DisclosureRules(roundingBase: 1)).audit(table, suppressed: [CellPosition(row: 1, measure: 0)])
        #expect(!exposed.passed)
        #expect(exposed.interval(at: CellPosition(row: 1, measure: 0)).map { [$0.minimum, $0.maximum] } == [3, 3])
    }

    @Test func thePartnerCoversTheMissingWidth() throws {
        // A zero needs a partner of at least k: 4 and 6 would leave the pair narrower than 10 persons.
        let protected = try DisclosureControl(rules: DisclosureRules(roundingBase: 1, zerosDisclosive: true)).protect(oneWay([0, 4, 6, 30, 12]))
        #expect(protected.rows.map(\.cells[0].rule) == [.zero, .threshold, .threshold, nil, nil, nil])
        #expect(protected.audit.passed)
        let pair = try DisclosureControl(rules: DisclosureRules(roundingBase: 1)).protect(oneWay([4, 5, 30, 12]))
        #expect(pair.rows.map(\.cells[0].rule) == [.threshold, .threshold, nil, .secondary, nil])
        #expect(pair.audit.passed)
    }

    @Test func noMarginNeedsNoPartner() throws {
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)], measures: [TableMeasure(name: "persons", kind: .persons)],
            rows: [StatisticsRow(dimensions: ["F"], cells: [.persons(40)]), StatisticsRow(dimensions: ["M"], cells: [.persons(3)])])
        let protected = try control.protect(table)
        #expect(protected.summary.suppressed == [.threshold: 1])
        #expect(protected.audit.interval(at: CellPosition(row: 1, measure: 0))!.maximum == .infinity)
    }

    /// Regions R1 {A 3, B 50, C 60}, R2 {D 40, E 45}, R3 {F 4}, and England.
    static let hierarchy: StatisticsTable = {
        let las: [(String, String, Int)] = [("R1", "A", 3), ("R1", "B", 50), ("R1", "C", 60), ("R2", "D", 40), ("R2", "E", 45), ("R3", "F", 4)]
        var rows = las.map { StatisticsRow(dimensions: [$0.0, $0.1], cells: [.persons($0.2)]) }
        for region in ["R1", "R2", "R3"] {
            rows.append(StatisticsRow(dimensions: [region, nil], cells: [.persons(las.filter { $0.0 == region }.reduce(0) { $0 + $1.2 })]))
        }
        rows.append(StatisticsRow(dimensions: [nil, nil], cells: [.persons(las.reduce(0) { $0 + $1.2 })]))
        return StatisticsTable(
            dimensions: [
                TableDimension(name: "region", partitionsPersons: true), TableDimension(name: "la_code", partitionsPersons: true, parent: "region"),
            ],
            measures: [TableMeasure(name: "persons", kind: .persons)], rows: rows)
    }()

    @Test func hierarchiesAreProtectedAtEveryLevel() throws {
        let table = Self.hierarchy
        let protected = try DisclosureControl(rules: DisclosureRules(roundingBase: 1)).protect(table)
        func rule(_ region: String?, _ la: String?) -> SuppressionRule? { protected.rows[table.row(region, la)].cells[0].rule }
        // LA level: A is small, B (the smallest LA that covers A's missing width) is its partner inside R1.
        #expect(rule("R1", "A") == .threshold)
        #expect(rule("R1", "B") == .secondary)
        #expect(rule("R1", "C") == nil)
        // R3 and its only LA are small; at the region level R3 needs a partner region (R2, the smaller), and R2 in
        // turn needs one of its LAs suppressed (D, the smaller), or R2's total would give D + E away.
        #expect(rule("R3", "F") == .threshold)
        #expect(rule("R3", nil) == .threshold)
        #expect(rule("R2", nil) == .secondary)
        #expect(rule("R2", "D") == .secondary)
        #expect(rule("R2", "E") == nil)
        #expect(rule(nil, nil) == nil)
        #expect(rule("R1", nil) == nil)
        #expect(protected.audit.passed)
        // Dropping the region-level partners lets the attacker recompute R3 from England minus R1 and R2.
        let withoutRegionPartners = suppressedPositions(protected).subtracting(
            [table.row("R2", nil), table.row("R2", "D")].map { CellPosition(row: $0, measure: 0) })
        let report = try DisclosureControl(rules: DisclosureRules(roundingBase: 1)).audit(table, suppressed: withoutRegionPartners)
        #expect(report.interval(at: CellPosition(row: table.row("R3", nil), measure: 0))!.width == 0)
        #expect(!report.passed)
    }

    @Test func magnitudesGetPartnersToo() throws {
        let sum = { (total: Double, top1: Double, top2: Double) in
            CellStatistic.sum(MagnitudeStatistic(total: total, persons: 30, largest: [top1, top2]))
        }
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)], measures: [TableMeasure(name: "cost", kind: .sum)],
            rows: [
                StatisticsRow(dimensions: ["F"], cells: [sum(10_000, 9_500, 100)]),
                StatisticsRow(dimensions: ["M"], cells: [sum(12_000, 900, 800)]),
                StatisticsRow(dimensions: ["X"], cells: [sum(30_000, 1_000, 900)]),
                StatisticsRow(dimensions: [nil], cells: [sum(52_000, 9_500, 1_000)]),
            ])
        let protected = try control.protect(table)
        #expect(protected.rows.map(\.cells[0].rule) == [.dominance, .secondary, nil, nil])
        // The dominated total may not be pinned to within p = 10% of itself.
        let interval = protected.audit.interval(at: CellPosition(row: 0, measure: 0))!
        #expect(interval.requiredWidth == 1_000)
        #expect(interval.isProtected)
        #expect(try !control.audit(table, suppressed: [CellPosition(row: 0, measure: 0)]).passed)
    }

    @Test func ratesAreSuppressedWithTheirNumerators() throws {
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)], measures: [TableMeasure(name: "at_home", kind: .rate)],
            rows: [
                StatisticsRow(dimensions: ["F"], cells: [.rate(numerator: 3, denominator: 40)]),
                StatisticsRow(dimensions: ["M"], cells: [.rate(numerator: 20, denominator: 45)]),
                StatisticsRow(dimensions: ["X"], cells: [.rate(numerator: 30, denominator: 50)]),
                StatisticsRow(dimensions: [nil], cells: [.rate(numerator: 53, denominator: 135)]),
            ])
        let protected = try control.protect(table)
        #expect(protected.rows.map(\.cells[0].rule) == [.threshold, .secondary, nil, nil])
        // The rate is the rounded numerator over the rounded denominator: 55 / 135.
        #expect(protected.rows[3].cells[0] == .rounded(.real(0.4074)))
        #expect(protected.audit.interval(at: CellPosition(row: 0, measure: 0), .numerator)!.isProtected)
        #expect(protected.audit.interval(at: CellPosition(row: 0, measure: 0), .denominator)!.isProtected)
        // Alone, F's numerator is the total's minus M's and X's: known only to within their rounding intervals.
        let lone = try control.audit(table, suppressed: [CellPosition(row: 0, measure: 0)])
        #expect(lone.interval(at: CellPosition(row: 0, measure: 0), .numerator)!.width == 11)
    }

    @Test func measuresAreProtectedIndependently() throws {
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)],
            measures: [TableMeasure(name: "persons", kind: .persons), TableMeasure(name: "mean_days", kind: .mean)],
            rows: [
                StatisticsRow(dimensions: ["F"], cells: [.persons(40), .mean(value: 10, persons: 40, records: 40)]),
                StatisticsRow(dimensions: ["M"], cells: [.persons(3), .mean(value: 20, persons: 3, records: 3)]),
                StatisticsRow(dimensions: ["X"], cells: [.persons(25), .mean(value: 30, persons: 25, records: 25)]),
                StatisticsRow(dimensions: [nil], cells: [.persons(68), .mean(value: 20, persons: 68, records: 68)]),
            ])
        let protected = try control.protect(table)
        #expect(protected.rows.map(\.cells[0].rule) == [nil, .threshold, .secondary, nil])
        #expect(protected.rows.map(\.cells[1].rule) == [nil, .threshold, nil, nil])
        #expect(protected.summary.suppressed == [.threshold: 2, .secondary: 1])
        // Means are formed from rounded parts, so they are rounded too.
        #expect(protected.summary.rounded == 5)
        #expect(protected.summary.released == 0)
    }
}

@Suite struct AttackerAuditTests {
    @Test func nonPartitioningDimensionsGiveInequalities() throws {
        // Quarters overlap in persons: 30 in Q1, 30 in Q2, 40 over the year. Knowing Q2 and the year, Q1 lies in
        // [year - Q2, year] = [10, 40]; were quarters a partition, Q1 would be exactly 10.
        let rules = DisclosureRules(threshold: 5, roundingBase: 1)
        let overlapping = oneWay([30, 30], total: 40, partitions: false, name: "quarter")
        let q1 = try DisclosureControl(rules: rules).audit(overlapping, suppressed: [CellPosition(row: 0, measure: 0)])
        #expect(q1.cells.map { [$0.minimum, $0.maximum] } == [[10, 40]])
        let year = try DisclosureControl(rules: rules).audit(overlapping, suppressed: [CellPosition(row: 2, measure: 0)])
        #expect(year.cells.map { [$0.minimum, $0.maximum] } == [[30, 60]])
        let partition = oneWay([10, 30], partitions: true, name: "sex")
        let exact = try DisclosureControl(rules: rules).audit(partition, suppressed: [CellPosition(row: 0, measure: 0)])
        #expect(exact.cells.map { [$0.minimum, $0.maximum] } == [[10, 10]])
        #expect(!exact.passed)
    }

    @Test func eventsAddUpOverEveryDimension() throws {
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "quarter", partitionsPersons: false)], measures: [TableMeasure(name: "events", kind: .events)],
            rows: [
                StatisticsRow(dimensions: ["Q1"], cells: [.events(count: 50, persons: 30)]),
                StatisticsRow(dimensions: ["Q2"], cells: [.events(count: 45, persons: 30)]),
                StatisticsRow(dimensions: [nil], cells: [.events(count: 95, persons: 40)]),
            ])
        let report = try DisclosureControl(rules: DisclosureRules(roundingBase: 1)).audit(table, suppressed: [CellPosition(row: 0, measure: 0)])
        #expect(report.cells.map { [$0.minimum, $0.maximum] } == [[50, 50]])
    }

    @Test func roundingAndThePublicThresholdBoundTheAttacker() throws {
        // Base 5: the released 10 (true 12) stands for 8...12, but released counts are known to be at least k = 10;
        // the total 15 (true 15) stands for 13...17. The suppressed 3 lies in [13 - 12, 17 - 10] = [1, 7].
        let table = oneWay([12, 3])
        let report = try DisclosureControl(rules: DisclosureRules()).audit(table, suppressed: [CellPosition(row: 1, measure: 0)])
        let cell = report.interval(at: CellPosition(row: 1, measure: 0))!
        #expect(cell.minimum == 1)
        #expect(cell.maximum == 7)
        #expect(!cell.isProtected)
    }

    @Test func theCriterionIsWidthAtLeastK() throws {
        // Suppressed pair under a released total: each lies in [0, pair sum]; exactly k wide passes, k - 1 fails.
        let rules = DisclosureRules(roundingBase: 1)
        let pattern: Set = [CellPosition(row: 0, measure: 0), CellPosition(row: 1, measure: 0)]
        let wide = try DisclosureControl(rules: rules).audit(oneWay([4, 6, 30]), suppressed: pattern)
        #expect(wide.cells.map(\.width) == [10, 10])
        #expect(wide.passed)
        let narrow = try DisclosureControl(rules: rules).audit(oneWay([4, 5, 30]), suppressed: pattern)
        #expect(narrow.cells.map(\.width) == [9, 9])
        #expect(narrow.failures.count == 2)
    }
}

/// Persons and the events of the same persons are withheld together, row by row.
@Suite struct LinkedCountTests {
    /// Alone, persons would take X as M's partner (the smallest person count) and events F (the smallest event count):
    /// then F's released persons would floor its withheld events and X's released events cap its withheld persons
    /// (persons <= events). Linked, both measures withhold M, F and X.
    @Test func personsAndEventsAreWithheldTogether() throws {
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)],
            measures: [TableMeasure(name: "persons", kind: .persons), TableMeasure(name: "events", kind: .events)],
            rows: [
                StatisticsRow(dimensions: ["F"], cells: [.persons(40), .events(count: 45, persons: 40)]),
                StatisticsRow(dimensions: ["M"], cells: [.persons(3), .events(count: 5, persons: 3)]),
                StatisticsRow(dimensions: ["X"], cells: [.persons(25), .events(count: 100, persons: 25)]),
                StatisticsRow(dimensions: [nil], cells: [.persons(68), .events(count: 150, persons: 68)]),
            ])
        let control = DisclosureControl(rules: DisclosureRules(roundingBase: 1))
        let protected = try control.protect(table)
        let persons = protected.rows.map { $0.cells[0].status == .suppressed }
        let events = protected.rows.map { $0.cells[1].status == .suppressed }
        #expect(persons == events)
        #expect(persons == [true, true, true, false])
        #expect(protected.audit.passed)
        // The per-measure audit alone accepts the mixed pattern (it cannot see persons <= events): the link is what stops it.
        #expect(try control.audit(table, suppressed: [CellPosition(row: 1, measure: 0), CellPosition(row: 2, measure: 0),
                                                     CellPosition(row: 1, measure: 1), CellPosition(row: 0, measure: 1)]).passed)
    }
}
