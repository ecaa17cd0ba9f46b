import SDEDisclosure

/// A seeded generator (SplitMix64), so random tables are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Synthetic person-level records, aggregated the way the compiled SQL would: every cell and margin from true values.
///
/// Persons live in one local authority (within a region) and have one sex, so `region`, `la_code` and `sex` partition
/// persons; their events fall in quarters, so `quarter` does not.
struct Microdata {
    struct Event {
        let quarter: Int
        let hours: Double
    }

    struct Person {
        let region: Int
        let la: Int
        let sex: Int
        let events: [Event]
    }

    let persons: [Person]
    let regions: Int
    let lasPerRegion: Int
    let quarters: Int

    /// Random microdata: `count` persons, skewed across local authorities so that some cells are small.
    static func random(
        regions: Int, lasPerRegion: Int, quarters: Int, persons count: Int, using rng: inout SeededGenerator
    ) -> Microdata {
        let laCount = regions * lasPerRegion
        let weights = (0..<laCount).map { _ in Double.random(in: 0.05...1, using: &rng) }
        let totalWeight = weights.reduce(0, +)
        let persons = (0..<count).map { _ -> Person in
            var pick = Double.random(in: 0..<totalWeight, using: &rng)
            var la = 0
            while la < laCount - 1, pick >= weights[la] {
                pick -= weights[la]
                la += 1
            }
            let events = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                Event(quarter: Int.random(in: 0..<quarters, using: &rng), hours: Double(Int.random(in: 1...40, using: &rng)))
            }
            return Person(region: la / lasPerRegion, la: la, sex: Int.random(in: 0...1, using: &rng), events: events)
        }
        return Microdata(persons: persons, regions: regions, lasPerRegion: lasPerRegion, quarters: quarters)
    }

    /// The table by region → la_code and quarter (and sex when `bySex`), margins included, with persons, events and
    /// hours measures.
    func table(bySex: Bool, measures: [MeasureKind] = [.persons, .events, .sum]) -> StatisticsTable {
        var dimensions = [
            TableDimension(name: "region", partitionsPersons: true),
            TableDimension(name: "la_code", partitionsPersons: true, parent: "region"),
            TableDimension(name: "quarter", partitionsPersons: false),
        ]
        if bySex { dimensions.append(TableDimension(name: "sex", partitionsPersons: true)) }
        var places: [(Int?, Int?)] = [(nil, nil)]
        for region in 0..<regions {
            places.append((region, nil))
            for l in 0..<lasPerRegion { places.append((region, region * lasPerRegion + l)) }
        }
        let quarterValues: [Int?] = [nil] + (0..<quarters).map { $0 }
        let sexValues: [Int?] = bySex ? [nil, 0, 1] : [nil]
        var rows: [StatisticsRow] = []
        for (region, la) in places {
            for quarter in quarterValues {
                for sex in sexValues {
                    var values: [String?] = [region.map { "R\($0)" }, la.map { "LA\($0)" }, quarter.map { "Q\($0 + 1)" }]
                    if bySex { values.append(sex.map { $0 == 0 ? "F" : "M" }) }
                    let cell = cell(region: region, la: la, quarter: quarter, sex: sex)
                    rows.append(StatisticsRow(dimensions: values, cells: measures.map { cell[$0]! }))
                }
            }
        }
        return StatisticsTable(dimensions: dimensions, measures: measures.map { TableMeasure(name: $0.rawValue, kind: $0) }, rows: rows)
    }

    private func cell(region: Int?, la: Int?, quarter: Int?, sex: Int?) -> [MeasureKind: CellStatistic] {
        var contributions: [Double] = []
        var events = 0
        for p in persons where (region == nil || p.region == region) && (la == nil || p.la == la) && (sex == nil || p.sex == sex) {
            let matching = p.events.filter { quarter == nil || $0.quarter == quarter }
            guard !matching.isEmpty else { continue }
            events += matching.count
            contributions.append(matching.reduce(0) { $0 + $1.hours })
        }
        contributions.sort(by: >)
        let total = contributions.reduce(0, +)
        return [
            .persons: .persons(contributions.count),
            .events: .events(count: events, persons: contributions.count),
            .sum: .sum(MagnitudeStatistic(total: total, persons: contributions.count, largest: Array(contributions.prefix(2)))),
        ]
    }
}

/// A one-dimensional persons table: one row per value of `name` plus the total row.
func oneWay(_ counts: [Int], total: Int? = nil, partitions: Bool = true, name: String = "sex") -> StatisticsTable {
    var rows = counts.enumerated().map { i, n in StatisticsRow(dimensions: ["v\(i)"], cells: [.persons(n)]) }
    rows.append(StatisticsRow(dimensions: [nil], cells: [.persons(total ?? counts.reduce(0, +))]))
    return StatisticsTable(
        dimensions: [TableDimension(name: name, partitionsPersons: partitions)], measures: [TableMeasure(name: "persons", kind: .persons)],
        rows: rows)
}

/// Every suppressed position of a protected table.
func suppressedPositions(_ table: ProtectedTable) -> Set<CellPosition> {
    var result: Set<CellPosition> = []
    for (r, row) in table.rows.enumerated() {
        for (m, cell) in row.cells.enumerated() where cell.status == .suppressed { result.insert(CellPosition(row: r, measure: m)) }
    }
    return result
}

extension StatisticsTable {
    /// The row index with exactly these dimension values.
    func row(_ values: String?...) -> Int { rows.firstIndex { $0.dimensions == values }! }
}
