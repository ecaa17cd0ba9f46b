/// The status every output cell carries (DESIGN section 9).
public enum CellStatus: String, Sendable, Hashable, CaseIterable {
    /// Released as computed.
    case released
    /// Released after rounding; see ``DisclosureControl`` for what is rounded.
    case rounded
    /// Released with cell-key noise (at most the profile's maximum noise; see ``PerturbationTable``).
    case perturbed
    /// Withheld; the cell's ``SuppressionRule`` says why.
    case suppressed
}

/// Why a cell was suppressed; raw values are the JSON contract's spellings.
public enum SuppressionRule: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Fewer than `threshold` distinct persons (or persons behind a mean or median, or in a rate's numerator,
    /// denominator or complement).
    case threshold
    /// The top n contributors hold at least k of a magnitude total.
    case dominance
    /// The remainder after the two largest contributions is less than p of the largest.
    case pPercent = "p_percent"
    /// Not sensitive itself, withheld so that a sensitive cell cannot be recomputed from the table's totals.
    case secondary
    /// Differs from a cell already released (nested date window) by 1 to threshold - 1 persons.
    case differencing
    /// A zero (nobody has the attribute) when zeros are disclosive; a mean or rate over nobody.
    case zero

    /// Declaration order, so summaries list rules stably.
    public static func < (lhs: SuppressionRule, rhs: SuppressionRule) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A released value: counts and rounded magnitudes are integers, means, medians and rates are reals.
public enum CellValue: Sendable, Hashable {
    /// A whole number (counts, magnitudes rounded to the unit).
    case integer(Int)
    /// A real number (mean, median, rate as a proportion in [0, 1]).
    case real(Double)
}

/// One protected output cell: a value and its status, or no value and the rule that suppressed it.
public struct ProtectedCell: Sendable, Hashable {
    /// The released value; `nil` exactly when the cell is suppressed (never 0 for a suppressed cell).
    public let value: CellValue?
    /// Released, rounded or suppressed.
    public let status: CellStatus
    /// The rule that suppressed the cell; `nil` unless suppressed.
    public let rule: SuppressionRule?

    private init(value: CellValue?, status: CellStatus, rule: SuppressionRule?) {
        self.value = value
        self.status = status
        self.rule = rule
    }

    /// A cell released as computed.
    public static func released(_ value: CellValue) -> ProtectedCell { ProtectedCell(value: value, status: .released, rule: nil) }

    /// A cell released after rounding.
    public static func rounded(_ value: CellValue) -> ProtectedCell { ProtectedCell(value: value, status: .rounded, rule: nil) }

    /// A cell released with cell-key noise.
    public static func perturbed(_ value: CellValue) -> ProtectedCell { ProtectedCell(value: value, status: .perturbed, rule: nil) }

    /// A cell released with `status` (released, rounded or perturbed).
    static func protected(_ value: CellValue, _ status: CellStatus) -> ProtectedCell {
        precondition(status != .suppressed, "a released cell has a value")
        return ProtectedCell(value: value, status: status, rule: nil)
    }

    /// A suppressed cell.
    public static func suppressed(_ rule: SuppressionRule) -> ProtectedCell { ProtectedCell(value: nil, status: .suppressed, rule: rule) }
}

/// One protected output row.
public struct ProtectedRow: Sendable, Hashable {
    /// The row's dimension values, as in the input (`nil` is a total).
    public let dimensions: [String?]
    /// One cell per measure, in the table's order.
    public let cells: [ProtectedCell]
}

/// Counts of output cells by status, and of suppressed cells by rule.
public struct DisclosureSummary: Sendable, Hashable {
    /// Cells released as computed.
    public let released: Int
    /// Cells released after rounding.
    public let rounded: Int
    /// Cells released with cell-key noise.
    public let perturbed: Int
    /// Suppressed cells by rule; rules that never fired are absent.
    public let suppressed: [SuppressionRule: Int]

    /// All suppressed cells.
    public var suppressedTotal: Int { suppressed.values.reduce(0, +) }

    /// Counts the cells of `rows`.
    init(rows: [ProtectedRow]) {
        var released = 0
        var rounded = 0
        var perturbed = 0
        var suppressed: [SuppressionRule: Int] = [:]
        for cell in rows.lazy.flatMap(\.cells) {
            switch cell.status {
            case .released: released += 1
            case .rounded: rounded += 1
            case .perturbed: perturbed += 1
            case .suppressed: suppressed[cell.rule!, default: 0] += 1
            }
        }
        self.released = released
        self.rounded = rounded
        self.perturbed = perturbed
        self.suppressed = suppressed
    }
}

/// The output of disclosure control: every cell with its status, a summary, and the attacker audit that passed.
public struct ProtectedTable: Sendable, Hashable {
    /// The rules applied.
    public let rules: DisclosureRules
    /// The dimensions, as in the input.
    public let dimensions: [TableDimension]
    /// The measures, as in the input.
    public let measures: [TableMeasure]
    /// One protected row per input row, in the input's order.
    public let rows: [ProtectedRow]
    /// Cells by status and by suppression rule.
    public let summary: DisclosureSummary
    /// The attacker audit of the released pattern (it passed, or the table would not exist).
    public let audit: AuditReport

    /// The cell at `position`.
    public subscript(position: CellPosition) -> ProtectedCell { rows[position.row].cells[position.measure] }
}
