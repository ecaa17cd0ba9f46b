/// One additive quantity of one measure, protected and audited as its own linear system: a person count, an event
/// count, a magnitude total, or a rate's numerator or denominator.
///
/// What an attacker knows of a released cell (`releasedBounds`):
/// - a count released rounded to base b (persons, events) lies in its rounding interval (base 5: `v - 2 ... v + 2`)
///   and, because the threshold rule is public, is at least `threshold`; a released 0 is a true zero, exactly 0;
/// - a magnitude released to the whole unit lies in `v - 0.5 ... v + 0.5` (and is at least 0);
/// - a rate's numerator and denominator are taken as known exactly, because the exact proportion together with any
///   published count of its denominator usually pins both down.
struct AdditiveComponent: Sendable {
    /// The measure this quantity belongs to.
    let measure: Int
    /// Which part of the measure's cells it is.
    let component: AuditComponent
    /// True value per row.
    let values: [Double]
    /// Lower and upper bound an attacker knows for each row's true value when the cell is released.
    let releasedBounds: [(lower: Double, upper: Double)]
    /// The width an attacker's interval must have for each row's cell when it is suppressed.
    let requiredWidth: [Double]
    /// Event counts and magnitudes add up exactly over every dimension; person counts only over partitioning ones.
    let addsUpOverEveryDimension: Bool

    /// Whether `relation` is an equation for this quantity (otherwise it is the pair of inequalities).
    func isEquation(_ relation: Relation) -> Bool { addsUpOverEveryDimension || relation.partitionsPersons }

    /// The additive quantities of measure `measure` of `table`: none for means and medians.
    static func components(of table: StatisticsTable, measure: Int, rules: DisclosureRules) -> [AdditiveComponent] {
        let cells = table.rows.map { $0.cells[measure] }
        let k = Double(rules.threshold)
        func counts(_ values: [Int], _ component: AuditComponent, rounded: Bool, everyDimension: Bool) -> AdditiveComponent {
            AdditiveComponent(
                measure: measure, component: component, values: values.map(Double.init),
                releasedBounds: values.map { t in
                    guard rounded, t != 0 else { return (Double(t), Double(t)) }
                    let interval = rules.roundingInterval(of: rules.roundedCount(t))
                    return (max(Double(interval.lowerBound), k), Double(interval.upperBound))
                },
                requiredWidth: Array(repeating: k, count: values.count), addsUpOverEveryDimension: everyDimension)
        }
        switch table.measures[measure].kind {
        case .persons:
            return [counts(cells.map(\.persons), .value, rounded: true, everyDimension: false)]
        case .events:
            return [counts(cells.map(\.eventCount), .value, rounded: true, everyDimension: true)]
        case .rate:
            return [
                counts(cells.map { $0.numeratorPersons ?? 0 }, .numerator, rounded: false, everyDimension: false),
                counts(cells.map(\.persons), .denominator, rounded: false, everyDimension: false),
            ]
        case .sum:
            let totals = cells.map(\.magnitudeTotal)
            return [
                AdditiveComponent(
                    measure: measure, component: .value, values: totals,
                    releasedBounds: totals.map { t in
                        guard t != 0 else { return (0, 0) }
                        let v = t.rounded()
                        return (max(0, v - 0.5), v + 0.5)
                    },
                    requiredWidth: totals.map { max(1, rules.pPercent * $0) }, addsUpOverEveryDimension: true)
            ]
        case .mean, .median:
            return []
        }
    }
}

extension CellStatistic {
    /// The record count of an events cell; 0 for other statistics.
    fileprivate var eventCount: Int {
        guard case .events(let count, _) = self else { return 0 }
        return count
    }

    /// The total of a magnitude cell; 0 for other statistics.
    fileprivate var magnitudeTotal: Double {
        guard case .sum(let magnitude) = self else { return 0 }
        return magnitude.total
    }
}
