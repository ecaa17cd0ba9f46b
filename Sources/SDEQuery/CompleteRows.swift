public import SDEDisclosure
public import SDEPolicy
import SDECommon

/// Every row a vetted query's table has, whatever the data: each combination of the catalogue values of its
/// dimensions (and of each margin's), zeros included (DESIGN section 7, complete tables). A row that is missing from
/// a statement's result is a true zero; publishing only the rows that exist would state those zeros, and with a filter
/// to one small council the rows that exist can be one person's history. So the table is completed before disclosure
/// control, and a zero is protected like any small count wherever the profile treats zeros as disclosive.
///
/// Which values: a code list's codes (every local authority, every region), an enumeration's or age band's listed
/// values, and the quarters of the run's period; each narrowed by the query's fixed filters and the run's parameter
/// filters on that dimension. Hierarchies hold: a local authority appears only under its own region, and a filter on
/// one level narrows the other (a region filter keeps that region's councils; a council filter keeps its region).
///
/// ```swift
/// let rows = try CompleteRows(query, dataset: dataset, period: period, filters: filters, reference: codes)
/// let table = rows.complete(statistics)   // every catalogue row, in the statement's order
/// ```
public struct CompleteRows: Sendable, Hashable {
    /// Every row's dimension values (nil: a total), in the statement's order.
    public let rows: [[String?]]

    /// The rows of `dimensions` (the compiled query's, in query order) for `groupingSets` (dimension names per set),
    /// within `period`, narrowed by `filters`.
    public init(
        dimensions: [TableDimension], groupingSets: [[String]], dataset: Dataset, period: QuarterRange, filters: [QueryFilter],
        reference: ReferenceCodes
    ) throws(QueryError) {
        var values: [String: [String]] = [:]
        for dimension in dataset.dimensions {
            switch dimension.values {
            case .listed(let listed): values[dimension.name] = listed
            case .reference(.localAuthorities): values[dimension.name] = reference.regionOfLocalAuthority.keys.sorted()
            case .reference(.regions): values[dimension.name] = reference.regions.sorted()
            case .quarters: values[dimension.name] = Self.quarters(period)
            }
        }
        for case .dimension(let name, let allowed) in filters {
            let allowed = Set(allowed)
            values[name] = values[name]?.filter(allowed.contains)
        }
        // One level of a hierarchy narrows the other: a council needs its region allowed, a region one of its councils.
        for dimension in dataset.dimensions {
            guard let parent = dimension.parent, let children = values[dimension.name], let parents = values[parent] else { continue }
            let parentSet = Set(parents)
            let kept = children.filter { reference.region(of: $0).map(parentSet.contains) ?? true }
            let reached = Set(kept.compactMap { reference.region(of: $0) })
            values[dimension.name] = kept
            values[parent] = parents.filter(reached.contains)
        }

        let names = dimensions.map(\.name)
        var rows: [[String?]] = []
        for set in groupingSets {
            var partial: [[String?]] = [Array(repeating: nil, count: names.count)]
            for (i, name) in names.enumerated() where set.contains(name) {
                guard let choices = values[name] else { throw .invalidCatalogue("dimension \(name) has no catalogue values") }
                partial = partial.flatMap { row in choices.map { value in var next = row; next[i] = value; return next } }
            }
            // A council only under its own region.
            for (i, dimension) in dimensions.enumerated() {
                guard let parent = dimension.parent, let p = names.firstIndex(of: parent) else { continue }
                partial.removeAll { row in
                    guard let child = row[i], let region = row[p] else { return false }
                    return reference.region(of: child).map { $0 != region } ?? false
                }
            }
            rows += partial
        }
        self.rows = rows.sorted(by: Self.statementOrder)
    }

    /// `table` with a zero row added for every catalogue row it lacks, all rows in the statement's order (the
    /// statement's own rows are kept as they are, even one outside the catalogue).
    public func complete(_ table: StatisticsTable) -> StatisticsTable {
        let present = Set(table.rows.map(\.dimensions))
        let zeros = table.measures.map { Self.zero($0.kind) }
        var rows = table.rows
        for dimensions in self.rows where !present.contains(dimensions) { rows.append(StatisticsRow(dimensions: dimensions, cells: zeros)) }
        rows.sort { Self.statementOrder($0.dimensions, $1.dimensions) }
        return StatisticsTable(dimensions: table.dimensions, measures: table.measures, rows: rows)
    }

    /// The statistic of a cell nobody is in.
    static func zero(_ kind: MeasureKind) -> CellStatistic {
        switch kind {
        case .persons: .persons(0)
        case .events: .events(count: 0, persons: 0)
        case .sum: .sum(MagnitudeStatistic(total: 0, persons: 0, largest: []))
        case .mean: .mean(value: 0, persons: 0, records: 0)
        case .median: .median(value: 0, persons: 0)
        case .rate: .rate(numerator: 0, denominator: 0)
        }
    }

    /// The statement's `ORDER BY`: dimension by dimension, values in byte order (`COLLATE "C"`), totals last.
    static func statementOrder(_ lhs: [String?], _ rhs: [String?]) -> Bool {
        for (l, r) in zip(lhs, rhs) where l != r {
            switch (l, r) {
            case (nil, _): return false
            case (_, nil): return true
            case (let l?, let r?): return Array(l.utf8).lexicographicallyPrecedes(Array(r.utf8))
            }
        }
        return false
    }

    /// `YYYYQn` for every quarter of `period`, as the views spell them.
    static func quarters(_ period: QuarterRange) -> [String] {
        var result: [String] = []
        var quarter = period.from
        while quarter <= period.to {
            result.append(quarter.description)
            quarter = quarter.next
        }
        return result
    }
}
