/// One dimension of a statistics table, such as `sex`, `quarter` or `la_code`.
///
/// A `nil` value of the dimension in a row marks a total over it. Whether the dimension partitions persons decides
/// how distinct-person counts add up over it: exactly (`total = sum of children`) when every person falls in
/// exactly one of its values (sex, age band, local authority), and only as inequalities
/// (`each child <= total <= sum of children`) when one person can fall in several (quarter, event type).
/// Event counts and magnitude sums add up exactly over every dimension, because `GROUP BY` puts each record in
/// exactly one cell.
///
/// A dimension with a `parent` is the child level of a hierarchy: `la_code` with parent `region`. A row with a
/// child value must carry its parent's value too; a row with `la_code` nil and a region is that region's total.
public struct TableDimension: Sendable, Hashable {
    /// The dimension's name, as in the vetted query.
    public var name: String
    /// Whether every person falls in exactly one value of this dimension (so person counts add up exactly).
    public var partitionsPersons: Bool
    /// The name of the coarser dimension this one nests in (`region` for `la_code`), or `nil`.
    public var parent: String?

    /// Creates a dimension.
    public init(name: String, partitionsPersons: Bool, parent: String? = nil) {
        self.name = name
        self.partitionsPersons = partitionsPersons
        self.parent = parent
    }
}

/// What a measure reports; it decides which disclosure rules apply to its cells.
public enum MeasureKind: String, Sendable, Hashable, CaseIterable {
    /// Distinct persons.
    case persons
    /// Number of records (events), with the distinct persons behind them.
    case events
    /// Total of a magnitude (hours, costs, days) with its largest per-person contributions.
    case sum
    /// Mean of a person-level value.
    case mean
    /// Median of a person-level value.
    case median
    /// Numerator persons over denominator persons.
    case rate
}

/// One measure (output column) of a statistics table.
public struct TableMeasure: Sendable, Hashable {
    /// The measure's name, as in the vetted query.
    public var name: String
    /// What the measure reports.
    public var kind: MeasureKind
    /// For sums, means and medians: the value column they summarise (`weekly_cost`), so that disclosure control knows
    /// which measures describe the same value (a released mean next to a suppressed sum of the same value narrows the
    /// sum). `nil` for other kinds, or when unknown (then no cross-measure rule can apply).
    public var value: String?

    /// Creates a measure.
    public init(name: String, kind: MeasureKind, value: String? = nil) {
        self.name = name
        self.kind = kind
        self.value = value
    }
}

/// The true statistics of a magnitude cell, as the compiled SQL returns them.
public struct MagnitudeStatistic: Sendable, Hashable {
    /// The cell total (sum of all contributions), at least 0.
    public var total: Double
    /// Distinct persons contributing to the total.
    public var persons: Int
    /// The largest per-person contributions, largest first: at least `min(persons, max(2, dominanceN))` of them.
    public var largest: [Double]

    /// Creates a magnitude statistic.
    public init(total: Double, persons: Int, largest: [Double]) {
        self.total = total
        self.persons = persons
        self.largest = largest
    }
}

/// The true statistic of one cell of one measure, before disclosure control.
public enum CellStatistic: Sendable, Hashable {
    /// Distinct persons.
    case persons(Int)
    /// Number of records and the distinct persons behind them.
    case events(count: Int, persons: Int)
    /// A magnitude total with its contributors.
    case sum(MagnitudeStatistic)
    /// A mean of a value over `records` records (those with a value), and the distinct persons behind them.
    case mean(value: Double, persons: Int, records: Int)
    /// A median and the distinct persons behind it.
    case median(value: Double, persons: Int)
    /// Numerator persons among denominator persons.
    case rate(numerator: Int, denominator: Int)

    /// The measure kind this statistic belongs to.
    public var kind: MeasureKind {
        switch self {
        case .persons: .persons
        case .events: .events
        case .sum: .sum
        case .mean: .mean
        case .median: .median
        case .rate: .rate
        }
    }

    /// The distinct persons the cell describes (for a rate, its denominator), as the release ledger records them.
    public var persons: Int {
        switch self {
        case .persons(let n): n
        case .events(_, let persons): persons
        case .sum(let m): m.persons
        case .mean(_, let persons, _), .median(_, let persons): persons
        case .rate(_, let denominator): denominator
        }
    }

    /// A rate's numerator persons; `nil` for every other statistic.
    public var numeratorPersons: Int? {
        if case .rate(let numerator, _) = self { numerator } else { nil }
    }
}

/// The cell keys of one cell under the cell-key method (DESIGN section 7): for each population the cell counts, the
/// sum of its distinct persons' secret record keys modulo 2^32, computed in the same statement as the count. The same
/// population has the same key in every query, so it gets the same noise everywhere.
public struct CellKey: Sendable, Hashable {
    /// The key of the persons the cell describes: persons, events' persons, a sum's contributors, a mean's or
    /// median's persons with a value, a rate's denominator.
    public var persons: UInt32
    /// The key of a rate's numerator persons; 0 for other measures.
    public var numerator: UInt32

    /// Keys as computed.
    public init(persons: UInt32, numerator: UInt32 = 0) {
        self.persons = persons
        self.numerator = numerator
    }
}

/// One row of a statistics table: a cell (or margin) of the dimensions with one statistic per measure.
public struct StatisticsRow: Sendable, Hashable {
    /// One value per table dimension, in the table's order; `nil` is the total over that dimension.
    public var dimensions: [String?]
    /// One statistic per table measure, in the table's order.
    public var cells: [CellStatistic]
    /// One cell key per table measure, in the table's order; empty when the statement computed none (then every key
    /// reads as 0, which only tests and the rounding method rely on).
    public var keys: [CellKey]

    /// Creates a row.
    public init(dimensions: [String?], cells: [CellStatistic], keys: [CellKey] = []) {
        self.dimensions = dimensions
        self.cells = cells
        self.keys = keys
    }

    /// The cell key of measure `measure`, 0 when the row has none.
    public func key(_ measure: Int) -> CellKey { keys.indices.contains(measure) ? keys[measure] : CellKey(persons: 0) }
}

/// The true per-cell statistics of a vetted query, margins included: the input of disclosure control.
///
/// ```swift
/// let table = StatisticsTable(
///     dimensions: [TableDimension(name: "sex", partitionsPersons: true)],
///     measures: [TableMeasure(name: "persons", kind: .persons)],
///     rows: [
///         StatisticsRow(dimensions: ["F"], cells: [.persons(40)]),
///         StatisticsRow(dimensions: ["M"], cells: [.persons(3)]),
///         StatisticsRow(dimensions: [nil], cells: [.persons(43)]),
///     ])
/// let protected = try DisclosureControl(rules: DisclosureRules()).protect(table)
/// ```
public struct StatisticsTable: Sendable, Hashable {
    /// The dimensions, in column order.
    public var dimensions: [TableDimension]
    /// The measures, in column order.
    public var measures: [TableMeasure]
    /// Every cell of the table, margins included; no two rows have the same dimension values.
    public var rows: [StatisticsRow]

    /// Creates a table.
    public init(dimensions: [TableDimension], measures: [TableMeasure], rows: [StatisticsRow]) {
        self.dimensions = dimensions
        self.measures = measures
        self.rows = rows
    }
}

/// The position of one output cell: a row of the table and one of its measures.
public struct CellPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Index into the table's rows.
    public var row: Int
    /// Index into the table's measures.
    public var measure: Int

    /// Creates a position.
    public init(row: Int, measure: Int) {
        self.row = row
        self.measure = measure
    }

    /// `row R measure M`.
    public var description: String { "row \(row) measure \(measure)" }

    /// Orders by row, then measure.
    public static func < (lhs: CellPosition, rhs: CellPosition) -> Bool { (lhs.row, lhs.measure) < (rhs.row, rhs.measure) }
}
