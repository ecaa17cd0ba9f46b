/// Every released number, and what it tells an attacker, under one profile: the one place where counts are perturbed
/// or rounded and derived values are formed from protected components only (DESIGN section 7).
///
/// Under the cell-key method (``CellKeyPerturbation``):
/// - a count of persons or records moves by the ``PerturbationTable``'s noise at (true count, cell key), so it lies
///   within `true ± D` and is never below the threshold; a true 0 is released as 0;
/// - a sum moves by up to `magnitudeShare` of its largest contribution (`noise / D × share × top1`, keyed by its
///   contributors), then to the whole unit;
/// - a mean is a protected sum over a protected record count: `mean × (records + j₁) / (records + j₂)`, each `j` the
///   noise of its own derived key (as if up to D average records were added to or taken from the sum, and the count
///   perturbed as any count), to two decimals;
/// - a rate is the protected numerator over the protected denominator, to four decimals.
///
/// Under the rounding method, counts are rounded to the base, sums to the unit, and means and rates are formed from
/// those rounded parts in the same way. A median is released only from enough persons (a primary rule) and to the
/// whole unit, under either method.
///
/// So no co-released measure states more than the protected counts and sums it is made of: a rate beside its count, a
/// mean beside its count, or a sum over a mean give back protected values, never true ones.
struct ReleasedValues: Sendable {
    let rules: DisclosureRules
    /// The perturbation table under the cell-key method.
    let table: PerturbationTable?

    init(rules: DisclosureRules) {
        self.rules = rules
        table = rules.perturbation.map { PerturbationTable.shared($0, threshold: rules.threshold) }
    }

    /// The status of a released non-zero count or derived value.
    var status: CellStatus { table == nil ? (rules.roundingBase > 1 ? .rounded : .released) : .perturbed }

    /// The released form of a count of `count` persons or records whose population has key `key`.
    func count(_ count: Int, key: UInt32) -> Int {
        guard count > 0 else { return 0 }
        guard let table else { return rules.roundedCount(count) }
        return count + table.noise(count: count, cellKey: key)
    }

    /// What a released count `value` tells about its true count: at least the threshold unless it is 0 (a released
    /// count that is not 0 passed the threshold rule, which is public).
    func countBounds(released value: Int) -> ClosedRange<Int> {
        guard value != 0 else { return 0...0 }
        let interval: ClosedRange<Int>
        if let table {
            interval = max(0, value - table.parameters.maxNoise)...(value + table.parameters.maxNoise)
        } else {
            interval = rules.roundingInterval(of: value)
        }
        return max(interval.lowerBound, rules.threshold)...max(interval.upperBound, rules.threshold)
    }

    /// The released total of a magnitude cell whose contributors have key `key`, to the whole unit and at least 0.
    func sum(_ magnitude: MagnitudeStatistic, key: UInt32) -> Int {
        guard magnitude.total != 0 else { return 0 }
        guard let table else { return Int(magnitude.total.rounded()) }
        let move = table.magnitudeNoise(cellKey: DerivedKey.sum.of(key)) * table.parameters.magnitudeShare * (magnitude.largest.first ?? 0)
        return max(0, Int((magnitude.total + move).rounded()))
    }

    /// How far a released total can be from the true one: half a unit of rounding, plus the perturbation's reach.
    func sumSlack(_ magnitude: MagnitudeStatistic) -> Double {
        0.5 + (table.map { $0.parameters.magnitudeShare * (magnitude.largest.first ?? 0) } ?? 0)
    }

    /// A mean of `value` over `records` records whose persons have key `key`: a protected sum over a protected count.
    func mean(_ value: Double, records: Int, key: UInt32) -> Double {
        let sum: Double
        let count: Int
        if let table {
            sum = value * Double(records + table.unconstrainedNoise(cellKey: DerivedKey.meanSum.of(key)))
            count = self.count(records, key: DerivedKey.meanRecords.of(key))
        } else {
            sum = (value * Double(records)).rounded()
            count = rules.roundedCount(records)
        }
        return Self.decimals(max(0, sum) / Double(max(1, count)), 2)
    }

    /// A median to the whole unit.
    func median(_ value: Double) -> Double { value.rounded() }

    /// The protected numerator over the protected denominator, in `0 ... 1`, to four decimals.
    func rate(numerator: Int, denominator: Int, key: CellKey) -> Double {
        let top = count(numerator, key: key.numerator)
        let bottom = count(denominator, key: key.persons)
        guard bottom > 0 else { return 0 }
        return Self.decimals(min(1, Double(top) / Double(bottom)), 4)
    }

    /// The released form of a cell no rule suppressed.
    func release(_ statistic: CellStatistic, key: CellKey) -> ProtectedCell {
        switch statistic {
        case .persons(let persons):
            return persons == 0 ? .released(.integer(0)) : .protected(.integer(count(persons, key: key.persons)), status)
        case .events(let events, _):
            return events == 0 ? .released(.integer(0)) : .protected(.integer(count(events, key: DerivedKey.events.of(key.persons))), status)
        case .sum(let magnitude):
            return magnitude.total == 0 ? .released(.integer(0)) : .protected(.integer(sum(magnitude, key: key.persons)), magnitudeStatus)
        case .mean(let value, _, let records):
            return .protected(.real(mean(value, records: records, key: key.persons)), magnitudeStatus)
        case .median(let value, _):
            return .rounded(.real(median(value)))
        case .rate(let numerator, let denominator):
            return .protected(.real(rate(numerator: numerator, denominator: denominator, key: key)), status)
        }
    }

    /// The status of a released sum or mean: rounded to the unit (or two decimals) even without noise.
    private var magnitudeStatus: CellStatus { table == nil ? .rounded : .perturbed }

    private static func decimals(_ x: Double, _ places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (x * scale).rounded() / scale
    }
}
