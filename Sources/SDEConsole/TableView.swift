import Foundation

/// A protected table as a page shows it, read from its JSON document (the one shape of DESIGN section 9, as the API
/// sends it): a column per dimension (a total shows as "Total"), a column per measure, and the disclosure summary.
/// A suppressed cell shows the mark `[c]` with the word "suppressed" for screen readers: never blank, never 0.
struct TableView {
    let dimensions: [String]
    let measures: [String]
    let rows: [Row]
    let disclosure: String
    let suppressed: Int

    struct Row {
        let labels: [Label]
        let cells: [Cell]
        /// The row's dimension values, for the chart (`nil` for a total).
        let values: [String?]
    }

    struct Label {
        let text: String
        let total: Bool
    }

    struct Cell {
        let text: String
        let status: String
        let suppressed: Bool
        /// The released value, for the chart.
        let number: Double?
    }

    /// The table of a document's canonical JSON bytes.
    init(document bytes: [UInt8]) throws(ConsoleError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let dimensions = object["dimensions"] as? [String], let measures = object["measures"] as? [String],
            let rows = object["rows"] as? [[String: Any]], let disclosure = object["disclosure"] as? [String: Any]
        else { throw .notFound }
        self.dimensions = dimensions
        self.measures = measures
        self.rows = rows.map { row in
            let labels = row["dimensions"] as? [String: Any] ?? [:], cells = row["cells"] as? [String: Any] ?? [:]
            let values = dimensions.map { labels[$0] as? String }
            return Row(
                labels: values.map { Label(text: $0 ?? "Total", total: $0 == nil) },
                cells: measures.map { Self.cell(cells[$0] as? [String: Any] ?? [:]) }, values: values)
        }
        let counts = disclosure["cells"] as? [String: Any] ?? [:]
        func count(_ name: String) -> Int { (counts[name] as? NSNumber)?.intValue ?? 0 }
        suppressed = count("suppressed")
        let method =
            disclosure["method"] as? String == "cell_key"
            ? "cell-key perturbation of at most ±\((disclosure["max_noise"] as? NSNumber)?.intValue ?? 0)"
            : "rounding to base \((disclosure["rounding_base"] as? NSNumber)?.intValue ?? 0)"
        let threshold = (disclosure["threshold"] as? NSNumber)?.intValue ?? 0
        self.disclosure =
            "Profile \(disclosure["profile"] as? String ?? "unknown"): threshold \(threshold), \(method). "
            + "Cells: \(count("released")) released, \(count("perturbed")) perturbed, \(count("rounded")) rounded, \(count("suppressed")) suppressed."
    }

    private static func cell(_ cell: [String: Any]) -> Cell {
        let status = cell["status"] as? String ?? "suppressed"
        guard status != "suppressed", let number = cell["value"] as? NSNumber else {
            return Cell(text: "[c]", status: status, suppressed: true, number: nil)
        }
        let value = number.doubleValue
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.4f", value)
        return Cell(text: text, status: status, suppressed: false, number: value)
    }
}
