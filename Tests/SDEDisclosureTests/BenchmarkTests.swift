import Foundation
import SDEDisclosure
import Testing

/// Timing of protection plus audit on a 2,000-cell table; runs only with `SDE_BENCH=1` and prints, never asserts a time.
///
/// `SDE_BENCH=1 swift test -c release --scratch-path .build-sdc --filter SDEDisclosureTests.BenchmarkTests`
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SDE_BENCH"] == "1"))
struct BenchmarkTests {
    /// 150 local authorities in 9 regions by 12 quarters, with region, England and all-quarter margins: 2,080 cells.
    /// Local authority sizes are `exp(logSize)` persons a quarter, spread over a quarter to a half of them per quarter.
    static func nationalTable(seed: UInt64, logSize: ClosedRange<Double>) -> StatisticsTable {
        var rng = SeededGenerator(seed: seed)
        let regions = 9
        let las = 150
        let quarters = 12
        var byLA: [[Int]] = []
        var annual: [Int] = []
        for _ in 0..<las {
            let size = exp(Double.random(in: logSize, using: &rng))
            let perQuarter = (0..<quarters).map { _ in Int(size * Double.random(in: 0.2...0.5, using: &rng)) }
            byLA.append(perQuarter)
            annual.append(min(perQuarter.reduce(0, +), max(perQuarter.max()!, Int(0.7 * Double(perQuarter.reduce(0, +))))))
        }
        let regionOf = (0..<las).map { $0 * regions / las }
        var rows: [StatisticsRow] = []
        func add(_ region: Int?, _ la: Int?, _ members: [Int]) {
            for q in 0...quarters {
                let value = members.reduce(0) { $0 + (q == quarters ? annual[$1] : byLA[$1][q]) }
                rows.append(
                    StatisticsRow(
                        dimensions: [region.map { "R\($0)" }, la.map { "LA\($0)" }, q == quarters ? nil : "Q\(q + 1)"], cells: [.persons(value)]))
            }
        }
        for la in 0..<las { add(regionOf[la], la, [la]) }
        for region in 0..<regions { add(region, nil, (0..<las).filter { regionOf[$0] == region }) }
        add(nil, nil, Array(0..<las))
        return StatisticsTable(
            dimensions: [
                TableDimension(name: "region", partitionsPersons: true), TableDimension(name: "la_code", partitionsPersons: true, parent: "region"),
                TableDimension(name: "quarter", partitionsPersons: false),
            ],
            measures: [TableMeasure(name: "persons", kind: .persons)], rows: rows)
    }

    /// Typical (a few percent of cells under the threshold) and stressed (about a third under it) tables.
    @Test(arguments: [DisclosureRules(), DisclosureRules(roundingBase: 1)], [3.5...7.5, 1.5...7.0])
    func protectAndAuditA2000CellTable(rules: DisclosureRules, logSize: ClosedRange<Double>) throws {
        let control = DisclosureControl(rules: rules)
        var timings: [Double] = []
        var last: ProtectedTable?
        for seed in 1...5 {
            let table = Self.nationalTable(seed: UInt64(seed), logSize: logSize)
            let start = ContinuousClock.now
            last = try control.protect(table)
            let elapsed = ContinuousClock.now - start
            timings.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        let summary = last!.summary
        let rules = summary.suppressed.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
        print(
            "SDE_BENCH disclosure base \(control.rules.roundingBase), LA log size \(logSize): \(last!.rows.count) cells, suppressed \(rules); "
                + "ms per table: \(timings.map { String(format: "%.1f", $0) }.joined(separator: " "))")
        #expect(last!.audit.passed)
    }
}
