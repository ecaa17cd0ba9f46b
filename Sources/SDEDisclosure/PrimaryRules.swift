/// Primary (cell by cell) disclosure rules and rounding.
///
/// Boundaries, as tested:
/// - threshold: `threshold - 1` persons is suppressed, `threshold` is released;
/// - zeros: a true zero is suppressed (`zero`) when `zerosDisclosive`, otherwise released as an exact 0;
/// - dominance: suppressed when the top `dominanceN` contributions are at least `dominanceK` of the total
///   (exactly k is suppressed);
/// - p%: suppressed when `(total - top1 - top2) / top1 < pPercent` (exactly p is released);
/// - means and medians: suppressed unless at least `max(threshold, minPersonsForMean)` persons are behind them;
/// - rates: suppressed when the denominator, the numerator or the complement (`denominator - numerator`) describes
///   1 to `threshold - 1` persons; a zero numerator or complement is a zero cell; a rate or mean over nobody is
///   undefined and always suppressed as `zero`.
///
/// Floating-point comparisons on the magnitude rules treat values within a relative 1e-9 of the boundary as on it.
extension DisclosureRules {
    /// Relative tolerance for the magnitude rules' boundaries.
    static let boundaryTolerance = 1e-9

    /// Throws unless every parameter is in range (the engine fails closed on a bad profile).
    public func validate() throws(DisclosureError) {
        guard threshold >= 1 else { throw .invalidRules("threshold must be at least 1, not \(threshold)") }
        guard roundingBase >= 1 else { throw .invalidRules("rounding base must be at least 1, not \(roundingBase)") }
        guard dominanceN >= 1 else { throw .invalidRules("dominance n must be at least 1, not \(dominanceN)") }
        guard dominanceK > 0, dominanceK <= 1 else { throw .invalidRules("dominance k must be in (0, 1], not \(dominanceK)") }
        guard pPercent >= 0, pPercent.isFinite else { throw .invalidRules("p must be at least 0, not \(pPercent)") }
        guard minPersonsForMean >= 0 else { throw .invalidRules("minimum persons for a mean must be at least 0") }
        if let perturbation {
            if let problem = perturbation.problem { throw .invalidRules(problem) }
            guard roundingBase == 1 else { throw .invalidRules("the cell-key method does not round: rounding base must be 1, not \(roundingBase)") }
        }
    }

    /// `count` rounded to the nearest multiple of `roundingBase`, halves up (base 5: 12 → 10, 13 → 15; base 10: 15 → 20).
    public func roundedCount(_ count: Int) -> Int {
        guard roundingBase > 1 else { return count }
        return (count + roundingBase / 2) / roundingBase * roundingBase
    }

    /// Every non-negative count that ``roundedCount(_:)`` maps to `value`: base 5 gives `value - 2 ... value + 2`,
    /// base 10 gives `value - 5 ... value + 4`.
    public func roundingInterval(of value: Int) -> ClosedRange<Int> {
        let below = roundingBase / 2
        let above = roundingBase - 1 - below
        return max(0, value - below)...(value + above)
    }

    /// Persons needed behind a mean or median.
    var minimumPersonsForMean: Int { max(threshold, minPersonsForMean) }

    /// The primary rule that suppresses `statistic`, or `nil` when the cell may be released.
    public func primaryRule(for statistic: CellStatistic) -> SuppressionRule? {
        switch statistic {
        case .persons(let persons), .events(_, let persons):
            return countRule(persons)
        case .sum(let magnitude):
            return magnitudeRule(magnitude)
        case .mean(_, let persons, _), .median(_, let persons):
            if persons == 0 { return .zero }
            return persons < minimumPersonsForMean ? .threshold : nil
        case .rate(let numerator, let denominator):
            if denominator == 0 { return .zero }
            return countRule(denominator) ?? countRule(numerator) ?? countRule(denominator - numerator)
        }
    }

    /// Threshold and zero rule for a count of distinct persons.
    func countRule(_ persons: Int) -> SuppressionRule? {
        if persons == 0 { return zerosDisclosive ? .zero : nil }
        return persons < threshold ? .threshold : nil
    }

    /// Zero, threshold, (n,k) dominance and p% rules for a magnitude cell, in that order.
    func magnitudeRule(_ m: MagnitudeStatistic) -> SuppressionRule? {
        if m.persons == 0 || m.total == 0 { return zerosDisclosive ? .zero : nil }
        if m.persons < threshold { return .threshold }
        // Without contributions the worst case is assumed: one person holds everything.
        guard let top1 = m.largest.first else { return .dominance }
        let slack = Self.boundaryTolerance * m.total
        let topN = m.largest.prefix(dominanceN).reduce(0, +)
        if topN >= dominanceK * m.total - slack { return .dominance }
        let top2 = m.largest.count > 1 ? m.largest[1] : 0
        if m.total - top1 - top2 < pPercent * top1 - slack { return .pPercent }
        return nil
    }

    /// Why `statistic` cannot be a true cell statistic under these rules, or `nil` when it can.
    func problem(with statistic: CellStatistic) -> String? {
        switch statistic {
        case .persons(let n):
            return n < 0 ? "negative person count" : nil
        case .events(let count, let persons):
            if persons < 0 || count < persons { return "event count below its person count" }
            return (count == 0) == (persons == 0) ? nil : "events without persons"
        case .sum(let m):
            return problem(with: m)
        case .mean(let value, let persons, _), .median(let value, let persons):
            if persons < 0 { return "negative person count" }
            return value.isFinite ? nil : "value is not finite"
        case .rate(let numerator, let denominator):
            return numerator >= 0 && numerator <= denominator ? nil : "numerator outside 0...denominator"
        }
    }

    private func problem(with m: MagnitudeStatistic) -> String? {
        guard m.total.isFinite, m.total >= 0, m.persons >= 0 else { return "magnitude total or persons negative or not finite" }
        guard m.largest.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return "negative or non-finite contribution" }
        guard zip(m.largest, m.largest.dropFirst()).allSatisfy({ $0 >= $1 }) else { return "largest contributions not in descending order" }
        guard m.largest.count <= m.persons else { return "more largest contributions than persons" }
        guard m.largest.count >= min(m.persons, max(2, dominanceN)) else {
            return "needs the \(min(m.persons, max(2, dominanceN))) largest contributions, got \(m.largest.count)"
        }
        guard m.largest.reduce(0, +) <= m.total * (1 + Self.boundaryTolerance) else { return "largest contributions exceed the total" }
        return m.persons == 0 && m.total != 0 ? "a total without persons" : nil
    }
}
