import SDEDisclosure
import SDEQuery

/// Statistics for ``InMemoryQueryStore``'s statements, made from the compiled query so that they have its shape and
/// every row of its complete table.
///
/// ```swift
/// store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 40))
/// store.setStatistics(of: "q2") { _ in throw PortFailure.queryTimeout }
/// ```
public enum FakeStatistics {
    /// Every row of the query's complete table at zero (what an empty view returns).
    public static let zeros: InMemoryQueryStore.Statistics = { query in query.table([]) }

    /// `persons` people in every finest cell (every dimension with a value), and each margin the sum of the cells it
    /// covers, so that margins add up (exactly over dimensions that partition persons; within bounds over the others).
    /// Events are two per person, magnitudes 10 per person, rates one in two.
    public static func uniform(persons: Int) -> InMemoryQueryStore.Statistics {
        { query in
            let rows = query.table([]).rows
            let finest = rows.filter { $0.dimensions.allSatisfy { $0 != nil } }
            let counted = rows.map { row in
                let covered = finest.filter { cell in zip(row.dimensions, cell.dimensions).allSatisfy { $0 == nil || $0 == $1 } }.count
                let n = covered * persons
                return StatisticsRow(dimensions: row.dimensions, cells: query.measures.map { statistic($0.kind, persons: n) })
            }
            return StatisticsTable(dimensions: query.dimensions, measures: query.measures, rows: counted)
        }
    }

    private static func statistic(_ kind: MeasureKind, persons n: Int) -> CellStatistic {
        switch kind {
        case .persons: .persons(n)
        case .events: .events(count: 2 * n, persons: n)
        case .sum: .sum(MagnitudeStatistic(total: 10 * Double(n), persons: n, largest: Array(repeating: 10, count: min(n, 10))))
        case .mean: .mean(value: 10, persons: n, records: n)
        case .median: .median(value: 10, persons: n)
        case .rate: .rate(numerator: n / 2, denominator: n)
        }
    }
}
