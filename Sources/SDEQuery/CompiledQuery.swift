public import SDEDisclosure

/// A vetted query compiled to one parameterised PostgreSQL statement, with everything needed to run it and to read
/// its result into the disclosure engine's ``StatisticsTable``.
///
/// ## Result layout
///
/// One result row per cell, margins included, in this column order:
///
/// 1. `grouping` (integer): `GROUPING(d1, ..., dk)` over the query's dimensions in query order. Bit `k - 1 - i`
///    (so `d1` is the most significant bit) is 1 when the row is a total over dimension `di`. A total's dimension
///    value is NULL in the result and `nil` in the ``StatisticsRow``; a set bit with a value, or a clear bit without
///    one, is refused as ``QueryError/unexpectedResult(_:)``. Rows with a real NULL in a grouped dimension are
///    excluded by the statement, so the margins total exactly the cells shown.
/// 2. One `text` column per dimension, named after it.
/// 3. Per measure, in query order, the columns of its kind (named `measure.part`):
///    - persons: `persons` (distinct persons), `key`;
///    - events: `count` (rows), `persons` (distinct persons), `key`;
///    - sum: `total`, `persons` (persons with a non-null contribution), `largest` (the largest per-person
///      contributions to this cell, largest first, at most `max(2, dominance n)` of them), `key`;
///    - mean: `value` (over the rows with a non-null value; NULL when there are none), `persons` (distinct persons
///      behind those rows), `records` (those rows), `key`; median: `value`, `persons`, `key`;
///    - rate: `numerator` (distinct persons with the numerator flag among the denominator's), `denominator`
///      (distinct persons with the denominator flag, or all persons in the cell), `key` (the denominator persons'),
///      `numerator_key` (the numerator persons').
///
///    A `key` is the measure's **cell key** (bigint in `0..<2^32`): the sum of the record keys of exactly the distinct
///    persons its `persons` (or a rate's `denominator`) counts, modulo 2^32, 0 when there are none. It is read into
///    ``StatisticsRow/keys``, one ``CellKey`` per measure; record keys themselves are never returned.
///
/// Rows come ordered by the dimensions in query order, each with its total last (`COLLATE "C"`, so the order does
/// not depend on the database's locale).
///
/// ```swift
/// let compiled = try QueryCompiler.compile(grant.run!)
/// print(compiled.sql)                    // what will run
/// print(compiled.binds)                  // $1, $2, ... in order
/// let row = try compiled.statisticsRow(decodedValues)
/// ```
public struct CompiledQuery: Sendable, Hashable {
    /// The vetted query's id.
    public let queryID: String
    /// The statement, with `$1`, `$2`, ... placeholders for ``binds``.
    public let sql: String
    /// The values of `$1`, `$2`, ... in order.
    public let binds: [QueryBind]
    /// The result columns, in order (see the layout above).
    public let columns: [ResultColumn]
    /// The output table's dimensions, in query order, with whether each partitions persons and its parent when the
    /// parent is also a dimension of the query.
    public let dimensions: [TableDimension]
    /// The output table's measures, in query order.
    public let measures: [TableMeasure]
    /// The cells the statement returns, as `GROUPING SETS`: every combination of levels of the dimension hierarchies
    /// (a child level always with its parent), finest first; the empty set is the grand total.
    public let groupingSets: [[String]]
    /// What each cell counts, for the differencing guard: the dataset, window, filters and measure conditions.
    public let population: PopulationFrame
    /// Every row the table has whatever the data (``CompleteRows``); set when compiled for an authorised run, so that
    /// ``table(_:)`` adds the zero rows the statement does not return.
    public var completeRows: CompleteRows?

    /// Reads one result row (values decoded per ``columns``) into the disclosure engine's row.
    public func statisticsRow(_ values: [ResultValue]) throws(QueryError) -> StatisticsRow {
        guard values.count == columns.count else {
            throw .unexpectedResult("query \(queryID): a result row has \(values.count) columns, expected \(columns.count)")
        }
        guard case .integer(let grouping) = values[0], grouping >= 0, grouping < 1 << dimensions.count else {
            throw .unexpectedResult("query \(queryID): column grouping is not a grouping bit set of \(dimensions.count) dimensions")
        }
        var dimensionValues: [String?] = []
        for (i, dimension) in dimensions.enumerated() {
            let isTotal = grouping & (1 << (dimensions.count - 1 - i)) != 0
            switch (isTotal, values[1 + i]) {
            case (true, .null): dimensionValues.append(nil)
            case (false, .text(let value)): dimensionValues.append(value)
            case (true, _): throw .unexpectedResult("query \(queryID): a total over \(dimension.name) carries a value")
            case (false, _): throw .unexpectedResult("query \(queryID): a cell has no text value for \(dimension.name)")
            }
        }
        var reader = ColumnReader(queryID: queryID, columns: columns, values: values, position: 1 + dimensions.count)
        var cells: [CellStatistic] = []
        var keys: [CellKey] = []
        for measure in measures {
            switch measure.kind {
            case .persons:
                cells.append(.persons(try reader.count()))
            case .events:
                cells.append(.events(count: try reader.count(), persons: try reader.count()))
            case .sum:
                let total = try reader.double() ?? 0
                cells.append(.sum(MagnitudeStatistic(total: total, persons: try reader.count(), largest: try reader.doubles())))
            case .mean:
                let value = try reader.double()
                cells.append(.mean(value: value ?? 0, persons: try reader.count(), records: try reader.count()))
            case .median:
                let value = try reader.double()
                cells.append(.median(value: value ?? 0, persons: try reader.count()))
            case .rate:
                cells.append(.rate(numerator: try reader.count(), denominator: try reader.count()))
            }
            let persons = try reader.cellKey()
            keys.append(CellKey(persons: persons, numerator: measure.kind == .rate ? try reader.cellKey() : 0))
        }
        return StatisticsRow(dimensions: dimensionValues, cells: cells, keys: keys)
    }

    /// The disclosure engine's input: this query's dimensions and measures with `rows`, completed with a zero row for
    /// every catalogue row the statement did not return (when ``completeRows`` is set).
    public func table(_ rows: [StatisticsRow]) -> StatisticsTable {
        let table = StatisticsTable(dimensions: dimensions, measures: measures, rows: rows)
        return completeRows?.complete(table) ?? table
    }

    /// The number of rows the table will have at least: its catalogue rows, when known.
    public var minimumRows: Int { completeRows?.rows.count ?? 0 }
}

/// Reads a result row's measure columns in order, checking each against the layout.
private struct ColumnReader {
    let queryID: String
    let columns: [ResultColumn]
    let values: [ResultValue]
    var position: Int

    private mutating func next() -> (ResultColumn, ResultValue) {
        defer { position += 1 }
        return (columns[position], values[position])
    }

    /// A non-negative count (never NULL: `count` always returns a number).
    mutating func count() throws(QueryError) -> Int {
        let (column, value) = next()
        guard case .integer(let n) = value, n >= 0 else {
            throw .unexpectedResult("query \(queryID): column \(column.name) is not a non-negative count")
        }
        return n
    }

    /// A cell key: an integer in `0..<2^32`.
    mutating func cellKey() throws(QueryError) -> UInt32 {
        let (column, value) = next()
        guard case .integer(let n) = value, let key = UInt32(exactly: n) else {
            throw .unexpectedResult("query \(queryID): column \(column.name) is not a cell key")
        }
        return key
    }

    /// A real number, or nil for NULL (an aggregate over no values).
    mutating func double() throws(QueryError) -> Double? {
        let (column, value) = next()
        switch value {
        case .null: return nil
        case .double(let x): return x
        default: throw .unexpectedResult("query \(queryID): column \(column.name) is not a double precision")
        }
    }

    /// A list of reals; NULL (no contributions) is the empty list.
    mutating func doubles() throws(QueryError) -> [Double] {
        let (column, value) = next()
        switch value {
        case .null: return []
        case .doubleArray(let xs): return xs
        default: throw .unexpectedResult("query \(queryID): column \(column.name) is not a double precision array")
        }
    }
}
