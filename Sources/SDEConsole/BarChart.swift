/// A horizontal bar chart of one measure of a protected table, drawn as inline SVG on the server (no script): one bar
/// per row that is not a total, in the latest quarter when the table has a `quarter` dimension. A suppressed cell has
/// no bar but the mark `[c]`. The table on the same page is the chart's text alternative.
struct BarChart {
    let measure: String
    let caption: String
    let width: Int
    let height: Int
    let bars: [Bar]

    struct Bar {
        let label: String
        let y: Int
        let textY: Int
        let width: Int
        let valueX: Int
        let value: String
        let suppressed: Bool
    }

    static let labelWidth = 220, barWidth = 460, rowHeight = 20, maxBars = 200

    /// The chart of `table`'s first measure, or `nil` when there is nothing to draw.
    init?(_ table: TableView) {
        guard let measure = table.measures.first else { return nil }
        let quarter = table.dimensions.firstIndex(of: "quarter")
        let latest = quarter.flatMap { index in table.rows.compactMap { $0.values[index] }.max() }
        let rows = table.rows.filter { row in
            !row.values.contains(nil) && (quarter.map { row.values[$0] == latest } ?? true)
        }.prefix(Self.maxBars)
        guard !rows.isEmpty else { return nil }
        let largest = rows.compactMap { $0.cells[0].number }.max() ?? 0
        self.measure = measure
        caption = "\(measure) by \(table.dimensions.filter { $0 != "quarter" }.joined(separator: " and "))" + (latest.map { " in \($0)" } ?? "")
        width = Self.labelWidth + Self.barWidth + 80
        height = rows.count * Self.rowHeight
        bars = rows.enumerated().map { index, row in
            let cell = row.cells[0]
            let length = largest > 0 ? Int(((cell.number ?? 0) / largest * Double(Self.barWidth)).rounded()) : 0
            let label = zip(table.dimensions, row.values).filter { $0.0 != "quarter" }.compactMap(\.1).joined(separator: " / ")
            return Bar(
                label: label, y: index * Self.rowHeight + 3, textY: index * Self.rowHeight + 15, width: max(length, 0),
                valueX: Self.labelWidth + max(length, 0) + 6, value: cell.text, suppressed: cell.suppressed)
        }
    }
}
