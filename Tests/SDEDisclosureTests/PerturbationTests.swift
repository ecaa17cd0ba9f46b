import SDEDisclosure
import Testing

/// The cell-key method: the perturbation table's published distribution, and released values built on it.
@Suite struct PerturbationTests {
    static let parameters = CellKeyPerturbation(maxNoise: 4, variance: 2.5, magnitudeShare: 0.10)
    static let rules = DisclosureRules(threshold: 10, perturbation: parameters, roundingBase: 1)
    static let table = PerturbationTable(parameters, threshold: 10)

    /// 10^6 cell keys spread evenly over the 2^32 keys, as a uniform population of cells would have them.
    static let keys: [UInt32] = (0..<1_000_000).map { UInt32((UInt64($0) << 32) / 1_000_000) }

    /// For every true count from the threshold to well past `threshold + D`: over 10^6 cell keys the noise has mean 0,
    /// variance V once the row is unconstrained (and at most V before), never exceeds D, and never takes a count below
    /// the threshold.
    @Test(arguments: [10, 11, 12, 13, 14, 15, 20, 1_000])
    func thePublishedDistributionMatchesItsSpecification(count: Int) {
        var sum = 0.0
        var squares = 0.0
        var lowest = Int.max
        var largest = 0
        for key in Self.keys {
            let noise = Self.table.noise(count: count, cellKey: key)
            sum += Double(noise)
            squares += Double(noise * noise)
            lowest = min(lowest, count + noise)
            largest = max(largest, abs(noise))
        }
        let mean = sum / Double(Self.keys.count)
        let variance = squares / Double(Self.keys.count) - mean * mean
        #expect(abs(mean) < 0.001, "mean noise at \(count): \(mean)")
        #expect(largest <= 4)
        #expect(lowest >= 10, "a released count below the threshold at \(count)")
        if count >= 14 {
            #expect(abs(variance - 2.5) < 0.01, "variance at \(count): \(variance)")
            #expect(largest == 4, "the full range is used once unconstrained")
        } else {
            #expect(variance <= 2.5 + 0.01)
        }
    }

    /// At the threshold the noise could only go up, and unbiased noise that only goes up is no noise: a count of k is
    /// never moved. Just above it the noise can go down by at most `count - k`.
    @Test func nearTheThresholdNoiseOnlyGoesAsLowAsTheThreshold() {
        #expect(Self.table.row(count: 10)?.lowest == 0 && Self.table.row(count: 10)?.probabilities.first == 1)
        #expect(Self.table.row(count: 11)?.lowest == -1)
        #expect(Self.table.row(count: 13)?.lowest == -3)
        #expect(Self.table.row(count: 14)?.lowest == -4)
        #expect(Self.table.row(count: 9) == nil && Self.table.row(count: 0) == nil)
        #expect(Self.table.noise(count: 0, cellKey: 12345) == 0)
    }

    /// The same (count, key) always gets the same noise; the table is made the same way every time.
    @Test func theSamePopulationGetsTheSameNoise() {
        let again = PerturbationTable(Self.parameters, threshold: 10)
        #expect(again == Self.table)
        #expect(PerturbationTable.shared(Self.parameters, threshold: 10) == Self.table)
        for key in Self.keys.prefix(1_000) { #expect(Self.table.noise(count: 57, cellKey: key) == again.noise(count: 57, cellKey: key)) }
    }

    /// k - 1 is suppressed, k is released unmoved, k + 1 is released as k or k + 1 ... k + 1 + D: never below k.
    @Test(arguments: [9, 10, 11])
    func thresholdBoundaryUnderPerturbation(persons: Int) throws {
        let control = DisclosureControl(rules: Self.rules)
        for key in stride(from: UInt32(0), to: UInt32.max - 1_000_000, by: 97_000_001) {
            let table = StatisticsTable(
                dimensions: [], measures: [TableMeasure(name: "persons", kind: .persons)],
                rows: [StatisticsRow(dimensions: [], cells: [.persons(persons)], keys: [CellKey(persons: key)])])
            let cell = try control.protect(table).rows[0].cells[0]
            if persons < 10 {
                #expect(cell == .suppressed(.threshold))
            } else {
                guard case .integer(let value)? = cell.value else { Issue.record("no value"); continue }
                #expect(cell.status == .perturbed && value >= 10 && abs(value - persons) <= 4)
                if persons == 10 { #expect(value == 10) }
            }
        }
    }

    /// A rate is the perturbed numerator over the perturbed denominator, and a mean a perturbed sum over a perturbed
    /// record count: so neither states more than perturbed counts do (a rate beside its count pins only the perturbed
    /// numerator). A sum moves by at most its share of the largest contribution.
    @Test func derivedValuesComeFromPerturbedParts() throws {
        let key = CellKey(persons: 0x1234_5678, numerator: 0x9ABC_DEF0)
        let table = StatisticsTable(
            dimensions: [],
            measures: [
                TableMeasure(name: "persons", kind: .persons), TableMeasure(name: "at_home", kind: .rate),
                TableMeasure(name: "mean_days", kind: .mean, value: "days"), TableMeasure(name: "cost", kind: .sum, value: "cost"),
            ],
            rows: [
                StatisticsRow(
                    dimensions: [],
                    cells: [
                        .persons(200), .rate(numerator: 120, denominator: 200), .mean(value: 12.5, persons: 200, records: 230),
                        .sum(MagnitudeStatistic(total: 50_000, persons: 200, largest: [900, 800])),
                    ], keys: [key, key, key, key])
            ])
        let cells = try DisclosureControl(rules: Self.rules).protect(table).rows[0].cells
        guard case .integer(let persons)? = cells[0].value, case .real(let rate)? = cells[1].value, case .real(let mean)? = cells[2].value,
            case .integer(let cost)? = cells[3].value
        else {
            Issue.record("a released cell has no value")
            return
        }
        #expect(cells.allSatisfy { $0.status == .perturbed })
        let numerator = 120 + Self.table.noise(count: 120, cellKey: key.numerator)
        #expect(persons == 200 + Self.table.noise(count: 200, cellKey: key.persons))
        #expect(rate == (Double(numerator) / Double(persons) * 10_000).rounded() / 10_000)
        #expect(abs(mean - 12.5) <= 12.5 * 8 / 226 + 0.005, "a mean moves as its sum and count do")
        #expect(abs(cost - 50_000) <= 90, "a sum moves by at most 10% of its largest contribution")
    }

    /// The attacker audit reads a perturbed count as `value ± D` (and at least the threshold): a cell suppressed alone
    /// between a perturbed margin and perturbed siblings is known only to within their combined noise.
    @Test func theAuditReadsPerturbedCountsAsIntervals() throws {
        let rows = [("F", 40), ("M", 3), ("X", 25)].map { StatisticsRow(dimensions: [$0.0], cells: [.persons($0.1)], keys: [CellKey(persons: 7)]) }
            + [StatisticsRow(dimensions: [nil], cells: [.persons(68)], keys: [CellKey(persons: 7)])]
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)], measures: [TableMeasure(name: "persons", kind: .persons)], rows: rows)
        let control = DisclosureControl(rules: Self.rules)
        let lone = try control.audit(table, suppressed: [CellPosition(row: 1, measure: 0)])
        let interval = try #require(lone.interval(at: CellPosition(row: 1, measure: 0)))
        // M = total - F - X, each known to ±4 (released here as 64, 36 and 21): 0 ... 19, so no partner is needed.
        #expect(interval.minimum == 0 && interval.maximum == 19 && interval.isProtected)
        let protected = try control.protect(table)
        #expect(protected.rows.map(\.cells[0].rule) == [nil, .threshold, nil, nil], "\(protected.rows)")
        // Under rounding (base 5) the same pattern leaves M within 3 ... 8: a partner is suppressed.
        let rounded = DisclosureControl(rules: DisclosureRules(threshold: 10, roundingBase: 5))
        #expect(try rounded.protect(table).rows.map(\.cells[0].rule).contains(.secondary))
    }

    /// Parameters out of range are refused, and a project may not lower the noise or change the method.
    @Test func invalidOrLooserParametersAreRefused() {
        for bad in [
            CellKeyPerturbation(maxNoise: 0, variance: 1, magnitudeShare: 0.1), CellKeyPerturbation(maxNoise: 2, variance: 4, magnitudeShare: 0.1),
            CellKeyPerturbation(maxNoise: 3, variance: 1, magnitudeShare: 0),
        ] {
            let error = #expect(throws: DisclosureError.self) { try DisclosureRules(perturbation: bad, roundingBase: 1).validate() }
            #expect(error?.code == .invalidRules)
        }
        let rounded = #expect(throws: DisclosureError.self) { try DisclosureRules(perturbation: Self.parameters, roundingBase: 5).validate() }
        #expect(rounded?.code == .invalidRules)
        var lower = Self.rules
        lower.perturbation?.maxNoise = 3
        #expect(!lower.isAtLeastAsStrict(as: Self.rules))
        var higher = Self.rules
        higher.perturbation?.variance = 3
        #expect(higher.isAtLeastAsStrict(as: Self.rules))
        #expect(!DisclosureRules(threshold: 10, roundingBase: 5).isAtLeastAsStrict(as: Self.rules))
        #expect(!Self.rules.isAtLeastAsStrict(as: DisclosureRules(threshold: 10, roundingBase: 5)))
    }
}
