/// One additive quantity of one measure, protected and audited as its own linear system: a person count, an event
/// count, a magnitude total, or a rate's numerator or denominator.
///
/// What an attacker knows of a released cell (`releasedBounds`) is what ``ReleasedValues`` says its released value
/// tells: a perturbed count lies within `value ± D`, a rounded count in its rounding interval, either at least the
/// threshold (the rule is public), and a released 0 is exactly 0; a magnitude lies within its slack (half a unit, plus
/// the perturbation's reach); a rate's numerator and denominator are taken as known to the same precision as a
/// count, because the released proportion together with any published count of its denominator can pin both to
/// their protected values.
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
    /// Whether released values carry cell-key noise, whose reach the secondary-suppression heuristic may count on.
    let isPerturbed: Bool

    /// How much a lone suppressed cell of `relation` stays unknown from its released cells' noise alone: the sum of
    /// their interval widths under the cell-key method, 0 otherwise (the rounding method keeps the classical
    /// partner for every lone suppression, as ACRO and tau-ARGUS do).
    func uncertainty(of relation: Relation, _ suppressed: [Bool]) -> Double {
        guard isPerturbed else { return 0 }
        return ([relation.parent] + relation.children).reduce(0) { sum, row in
            suppressed[row] ? sum : sum + releasedBounds[row].upper - releasedBounds[row].lower
        }
    }

    /// Whether `relation` is an equation for this quantity (otherwise it is the pair of inequalities).
    func isEquation(_ relation: Relation) -> Bool { addsUpOverEveryDimension || relation.partitionsPersons }

    /// The additive quantities of measure `measure` of `table`: none for means and medians.
    static func components(of table: StatisticsTable, measure: Int, values: ReleasedValues) -> [AdditiveComponent] {
        let cells = table.rows.map { $0.cells[measure] }
        let keys = table.rows.map { $0.key(measure) }
        let k = Double(values.rules.threshold)
        // A rate over nobody has no value to protect where zeros are not disclosive: its zero denominator is the
        // released zero of the same persons.
        let emptyRateNeedsNoWidth = !values.rules.zerosDisclosive && table.measures[measure].kind == .rate
        func counts(_ counts: [Int], _ component: AuditComponent, everyDimension: Bool, key: (CellKey) -> UInt32) -> AdditiveComponent {
            AdditiveComponent(
                measure: measure, component: component, values: counts.map(Double.init),
                releasedBounds: zip(counts, keys).map { count, cellKey in
                    let bounds = values.countBounds(released: values.count(count, key: key(cellKey)))
                    return (Double(bounds.lowerBound), Double(bounds.upperBound))
                },
                requiredWidth: cells.map { emptyRateNeedsNoWidth && $0.persons == 0 ? 0 : k }, addsUpOverEveryDimension: everyDimension,
                isPerturbed: values.table != nil)
        }
        switch table.measures[measure].kind {
        case .persons:
            return [counts(cells.map(\.persons), .value, everyDimension: false, key: \.persons)]
        case .events:
            return [counts(cells.map(\.eventCount), .value, everyDimension: true) { DerivedKey.events.of($0.persons) }]
        case .rate:
            return [
                counts(cells.map { $0.numeratorPersons ?? 0 }, .numerator, everyDimension: false, key: \.numerator),
                counts(cells.map(\.persons), .denominator, everyDimension: false, key: \.persons),
            ]
        case .sum:
            let magnitudes = cells.map(\.magnitude)
            return [
                AdditiveComponent(
                    measure: measure, component: .value, values: magnitudes.map(\.total),
                    releasedBounds: zip(magnitudes, keys).map { magnitude, key in
                        guard magnitude.total != 0 else { return (0, 0) }
                        let released = Double(values.sum(magnitude, key: key.persons))
                        let slack = values.sumSlack(magnitude)
                        return (max(0, released - slack), released + slack)
                    },
                    requiredWidth: magnitudes.map { max(1, values.rules.pPercent * $0.total) }, addsUpOverEveryDimension: true,
                    isPerturbed: values.table != nil)
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

    /// The magnitude of a sum cell; an empty one for other statistics.
    fileprivate var magnitude: MagnitudeStatistic {
        guard case .sum(let magnitude) = self else { return MagnitudeStatistic(total: 0, persons: 0, largest: []) }
        return magnitude
    }
}
