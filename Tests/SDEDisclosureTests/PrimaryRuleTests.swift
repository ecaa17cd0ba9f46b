import SDEDisclosure
import Testing

@Suite struct ThresholdAndZeroTests {
    @Test(arguments: [(9, SuppressionRule?.some(.threshold)), (10, nil), (11, nil), (1, .threshold)])
    func personsAtTheThreshold(persons: Int, expected: SuppressionRule?) {
        #expect(DisclosureRules().primaryRule(for: .persons(persons)) == expected)
        #expect(DisclosureRules().primaryRule(for: .events(count: persons * 3, persons: persons)) == expected)
    }

    @Test(arguments: [4, 5, 6])
    func aStricterThresholdMovesTheBoundary(persons: Int) {
        let rules = DisclosureRules(threshold: 5)
        #expect(rules.primaryRule(for: .persons(persons)) == (persons < 5 ? .threshold : nil))
    }

    @Test func zerosFollowTheProfile() {
        #expect(DisclosureRules(zerosDisclosive: true).primaryRule(for: .persons(0)) == .zero)
        #expect(DisclosureRules(zerosDisclosive: false).primaryRule(for: .persons(0)) == nil)
        #expect(DisclosureRules(zerosDisclosive: true).primaryRule(for: .events(count: 0, persons: 0)) == .zero)
        #expect(DisclosureRules(zerosDisclosive: false).primaryRule(for: .events(count: 0, persons: 0)) == nil)
    }

    @Test func eventsAreThresholdedOnThePersonsBehindThem() {
        #expect(DisclosureRules().primaryRule(for: .events(count: 500, persons: 9)) == .threshold)
        #expect(DisclosureRules().primaryRule(for: .events(count: 10, persons: 10)) == nil)
    }

    @Test func releasedZeroIsAnExactZeroAndSuppressedIsNeverZero() throws {
        let released = try DisclosureControl(rules: DisclosureRules()).protect(oneWay([0, 40, 35]))
        #expect(released.rows[0].cells[0] == .released(.integer(0)))
        let suppressed = try DisclosureControl(rules: DisclosureRules(zerosDisclosive: true)).protect(oneWay([0, 40, 35]))
        #expect(suppressed.rows[0].cells[0] == .suppressed(.zero))
        #expect(suppressed.rows[0].cells[0].value == nil)
        #expect(suppressed.summary.suppressed[.zero] == 1)
    }
}

@Suite struct RoundingTests {
    @Test(arguments: [(12, 10), (13, 15), (10, 10), (14, 15), (17, 15), (18, 20), (0, 0)])
    func base5RoundsToNearest(count: Int, rounded: Int) {
        #expect(DisclosureRules(roundingBase: 5).roundedCount(count) == rounded)
    }

    @Test func evenBasesRoundHalvesUp() {
        #expect(DisclosureRules(roundingBase: 10).roundedCount(15) == 20)
        #expect(DisclosureRules(roundingBase: 10).roundedCount(14) == 10)
        #expect(DisclosureRules(roundingBase: 10).roundingInterval(of: 20) == 15...24)
    }

    @Test func intervalsAreExactlyThePreimages() {
        for base in [1, 2, 3, 5, 10] {
            let rules = DisclosureRules(roundingBase: base)
            for value in stride(from: base * 3, through: base * 8, by: base) {
                let preimage = (0...200).filter { rules.roundedCount($0) == value }
                #expect(rules.roundingInterval(of: value) == preimage.first!...preimage.last!)
            }
        }
    }

    @Test func releasedCountsAreRoundedAndMarked() throws {
        let table = oneWay([12, 13, 15])
        let protected = try DisclosureControl(rules: DisclosureRules()).protect(table)
        #expect(protected.rows.map(\.cells[0]) == [.rounded(.integer(10)), .rounded(.integer(15)), .rounded(.integer(15)), .rounded(.integer(40))])
        #expect(protected.summary.rounded == 4)
        #expect(protected.summary.released == 0)
    }

    @Test func base1ReleasesExactCounts() throws {
        let protected = try DisclosureControl(rules: DisclosureRules(roundingBase: 1)).protect(oneWay([12, 13]))
        #expect(protected.rows.map(\.cells[0]) == [.released(.integer(12)), .released(.integer(13)), .released(.integer(25))])
        #expect(protected.summary.released == 3)
    }

    @Test func magnitudesAreRoundedToTheWholeUnit() throws {
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)], measures: [TableMeasure(name: "hours", kind: .sum)],
            rows: [StatisticsRow(dimensions: [nil], cells: [.sum(MagnitudeStatistic(total: 1234.5, persons: 40, largest: [60, 50]))])])
        #expect(try DisclosureControl(rules: DisclosureRules()).protect(table).rows[0].cells[0] == .rounded(.integer(1235)))
    }
}

@Suite struct MagnitudeRuleTests {
    static func sum(_ total: Double, _ top1: Double, _ top2: Double, persons: Int = 20) -> CellStatistic {
        .sum(MagnitudeStatistic(total: total, persons: persons, largest: [top1, top2]))
    }

    @Test(arguments: [(29.9, SuppressionRule?.none), (30.0, .dominance), (30.1, .dominance)])
    func dominanceAtK(top2: Double, expected: SuppressionRule?) {
        // n = 2, k = 0.90 on a total of 100 with top1 = 60: the two largest hold 89.9%, 90% and 90.1%.
        #expect(DisclosureRules().primaryRule(for: Self.sum(100, 60, top2)) == expected)
    }

    @Test func dominanceUsesTheTopN() {
        let rules = DisclosureRules(dominanceN: 3, dominanceK: 0.9)
        let cell = CellStatistic.sum(MagnitudeStatistic(total: 100, persons: 20, largest: [40, 30, 20]))
        #expect(rules.primaryRule(for: cell) == .dominance)
        #expect(DisclosureRules(dominanceN: 2, dominanceK: 0.9, pPercent: 0).primaryRule(for: cell) == nil)
    }

    @Test(arguments: [(159.99, SuppressionRule?.some(.pPercent)), (160.0, nil), (160.01, nil)])
    func pPercentAtP(total: Double, expected: SuppressionRule?) {
        // (total - 100 - 50) / 100 against p = 0.10: just under, exactly, just over. Dominance is off (k = 1).
        let rules = DisclosureRules(dominanceK: 1.0, pPercent: 0.10)
        #expect(rules.primaryRule(for: Self.sum(total, 100, 50)) == expected)
    }

    @Test func thresholdComesBeforeDominance() {
        #expect(DisclosureRules().primaryRule(for: Self.sum(1000, 900, 90, persons: 9)) == .threshold)
        #expect(DisclosureRules().primaryRule(for: Self.sum(1000, 900, 90, persons: 10)) == .dominance)
    }

    @Test func zeroTotalsFollowTheZeroRule() {
        let empty = CellStatistic.sum(MagnitudeStatistic(total: 0, persons: 0, largest: []))
        #expect(DisclosureRules(zerosDisclosive: true).primaryRule(for: empty) == .zero)
        #expect(DisclosureRules(zerosDisclosive: false).primaryRule(for: empty) == nil)
    }
}

@Suite struct MeanAndRateRuleTests {
    @Test(arguments: [(9, SuppressionRule?.some(.threshold)), (10, nil), (0, .zero)])
    func meansAndMediansNeedPersons(persons: Int, expected: SuppressionRule?) {
        #expect(DisclosureRules().primaryRule(for: .mean(value: 3.5, persons: persons, records: persons)) == expected)
        #expect(DisclosureRules().primaryRule(for: .median(value: 3.5, persons: persons)) == expected)
    }

    @Test func theStricterOfThresholdAndMinimumForMeansApplies() {
        #expect(DisclosureRules(minPersonsForMean: 20).primaryRule(for: .mean(value: 1, persons: 19, records: 19)) == .threshold)
        #expect(DisclosureRules(minPersonsForMean: 20).primaryRule(for: .mean(value: 1, persons: 20, records: 20)) == nil)
        #expect(DisclosureRules(threshold: 15, minPersonsForMean: 5).primaryRule(for: .mean(value: 1, persons: 14, records: 14)) == .threshold)
    }

    @Test(arguments: [
        (9, 40, SuppressionRule?.some(.threshold)), (10, 40, nil), (5, 9, .threshold), (30, 39, .threshold), (30, 40, nil), (0, 0, .zero),
    ])
    func ratesCheckNumeratorDenominatorAndComplement(numerator: Int, denominator: Int, expected: SuppressionRule?) {
        #expect(DisclosureRules().primaryRule(for: .rate(numerator: numerator, denominator: denominator)) == expected)
    }

    @Test func rateZerosFollowTheProfile() {
        #expect(DisclosureRules(zerosDisclosive: true).primaryRule(for: .rate(numerator: 0, denominator: 40)) == .zero)
        #expect(DisclosureRules(zerosDisclosive: true).primaryRule(for: .rate(numerator: 40, denominator: 40)) == .zero)
        #expect(DisclosureRules(zerosDisclosive: false).primaryRule(for: .rate(numerator: 0, denominator: 40)) == nil)
    }

    @Test func releasedMeansAndRatesComeFromRoundedParts() throws {
        let table = StatisticsTable(
            dimensions: [], measures: [TableMeasure(name: "mean_days", kind: .mean), TableMeasure(name: "at_home", kind: .rate)],
            rows: [StatisticsRow(dimensions: [], cells: [.mean(value: 12.25, persons: 10, records: 10), .rate(numerator: 30, denominator: 40)])])
        let protected = try DisclosureControl(rules: DisclosureRules()).protect(table)
        // Mean: the sum 122.5 to the unit (123) over the rounded count (10); rate: 30 / 40, both already multiples of 5.
        #expect(protected.rows[0].cells == [.rounded(.real(12.3)), .rounded(.real(0.75))])
    }
}

@Suite struct ValidationTests {
    let control = DisclosureControl(rules: DisclosureRules())

    @Test func badProfilesAreRefused() {
        for rules in [DisclosureRules(threshold: 0), DisclosureRules(roundingBase: 0), DisclosureRules(dominanceK: 1.5)] {
            let error = #expect(throws: DisclosureError.self) { try DisclosureControl(rules: rules).protect(oneWay([20])) }
            #expect(error?.code == .invalidRules)
        }
    }

    @Test func malformedTablesAreRefused() {
        let hierarchy = [
            TableDimension(name: "region", partitionsPersons: true), TableDimension(name: "la_code", partitionsPersons: true, parent: "region"),
        ]
        let persons = [TableMeasure(name: "persons", kind: .persons)]
        let orphan = StatisticsTable(
            dimensions: hierarchy, measures: persons, rows: [StatisticsRow(dimensions: [nil, "E06000001"], cells: [.persons(20)])])
        let duplicate = StatisticsTable(
            dimensions: hierarchy, measures: persons,
            rows: Array(repeating: StatisticsRow(dimensions: ["R1", nil], cells: [.persons(20)]), count: 2))
        let wrongKind = StatisticsTable(
            dimensions: [], measures: persons, rows: [StatisticsRow(dimensions: [], cells: [.mean(value: 1, persons: 20, records: 20)])])
        let badSum = StatisticsTable(
            dimensions: [], measures: [TableMeasure(name: "hours", kind: .sum)],
            rows: [StatisticsRow(dimensions: [], cells: [.sum(MagnitudeStatistic(total: 10, persons: 20, largest: [8, 9]))])])
        let cycle = StatisticsTable(
            dimensions: [
                TableDimension(name: "a", partitionsPersons: true, parent: "b"), TableDimension(name: "b", partitionsPersons: true, parent: "a"),
            ],
            measures: persons, rows: [])
        for table in [orphan, duplicate, wrongKind, badSum, cycle] {
            let error = #expect(throws: DisclosureError.self) { try control.protect(table) }
            #expect(error?.code == .invalidTable)
        }
    }

    @Test func auditRefusesPatternsThatReleaseSensitiveCells() {
        let error = #expect(throws: DisclosureError.self) { try control.audit(oneWay([3, 40]), suppressed: []) }
        #expect(error?.code == .invalidTable)
    }
}
