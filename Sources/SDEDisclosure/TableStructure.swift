/// One additive relation of a table: a margin cell and the cells one level below it along one dimension.
///
/// For a dimension that partitions persons (and for event counts and magnitudes over any dimension)
/// `parent = sum of children`; for person counts over a dimension that does not partition persons only
/// `parent <= sum of children` and `parent >= each child` hold.
struct Relation: Sendable {
    /// Row index of the margin.
    let parent: Int
    /// Row indices of the cells it totals.
    let children: [Int]
    /// Whether the dimension summed over partitions persons.
    let partitionsPersons: Bool
}

/// The validated shape of a statistics table: its additive relations, found from the dimension values.
struct TableStructure: Sendable {
    /// Every relation, in order of first appearance of its children.
    let relations: [Relation]
    /// For each row, the indices of the relations it appears in (as parent or child).
    let relationsOfRow: [[Int]]
    /// Row index by dimension values.
    let rowIndex: [[String?]: Int]

    /// Validates `table` against `rules` and finds its relations.
    ///
    /// Each dimension chain (a root dimension and its descendants, such as region → la_code) is one hierarchy. A row
    /// whose deepest non-nil value in a chain is at level `l` is a child of the row with that value set to nil,
    /// when the table has such a row.
    init(validating table: StatisticsTable, rules: DisclosureRules) throws(DisclosureError) {
        let chains = try Self.chains(of: table.dimensions)
        try Self.checkMeasures(table.measures)
        var rowIndex: [[String?]: Int] = [:]
        rowIndex.reserveCapacity(table.rows.count)
        for (r, row) in table.rows.enumerated() {
            guard row.dimensions.count == table.dimensions.count, row.cells.count == table.measures.count else {
                throw .invalidTable("row \(r) has \(row.dimensions.count) dimension values and \(row.cells.count) cells")
            }
            for (m, cell) in row.cells.enumerated() {
                guard cell.kind == table.measures[m].kind else {
                    throw .invalidTable("row \(r): measure \(table.measures[m].name) is a \(table.measures[m].kind.rawValue), not a \(cell.kind)")
                }
                if let problem = rules.problem(with: cell) { throw .invalidTable("row \(r), measure \(table.measures[m].name): \(problem)") }
            }
            for chain in chains where !Self.isPrefix(chain.map { row.dimensions[$0] }) {
                throw .invalidTable("row \(r): \(table.dimensions[chain.last!].name) has a value but a coarser level of its hierarchy is null")
            }
            guard rowIndex.updateValue(r, forKey: row.dimensions) == nil else {
                throw .invalidTable("row \(r) repeats the dimension values of an earlier row")
            }
        }

        struct Key: Hashable {
            let parent: Int
            let chain: Int
        }
        var childrenByKey: [Key: [Int]] = [:]
        var keys: [Key] = []
        var partitions: [Key: Bool] = [:]
        for (r, row) in table.rows.enumerated() {
            for (c, chain) in chains.enumerated() {
                let level = chain.prefix { row.dimensions[$0] != nil }.count
                guard level > 0 else { continue }
                let summed = chain[level - 1]
                var parentValues = row.dimensions
                parentValues[summed] = nil
                guard let parent = rowIndex[parentValues] else { continue }
                let key = Key(parent: parent, chain: c)
                if childrenByKey[key] == nil {
                    keys.append(key)
                    partitions[key] = table.dimensions[summed].partitionsPersons
                }
                childrenByKey[key, default: []].append(r)
            }
        }
        var relationsOfRow = [[Int]](repeating: [], count: table.rows.count)
        relations = keys.enumerated().map { i, key in
            let relation = Relation(parent: key.parent, children: childrenByKey[key]!, partitionsPersons: partitions[key]!)
            relationsOfRow[key.parent].append(i)
            for child in relation.children { relationsOfRow[child].append(i) }
            return relation
        }
        self.relationsOfRow = relationsOfRow
        self.rowIndex = rowIndex
    }

    /// The dimension chains, each root first, as dimension indices; throws on unknown parents, cycles or branching.
    private static func chains(of dimensions: [TableDimension]) throws(DisclosureError) -> [[Int]] {
        var indexByName: [String: Int] = [:]
        for (i, d) in dimensions.enumerated() where indexByName.updateValue(i, forKey: d.name) != nil {
            throw .invalidTable("dimension \(d.name) appears twice")
        }
        var childOf: [Int: Int] = [:]
        for (i, d) in dimensions.enumerated() {
            guard let parentName = d.parent else { continue }
            guard let parent = indexByName[parentName], parent != i else {
                throw .invalidTable("dimension \(d.name) has unknown parent \(parentName)")
            }
            guard childOf.updateValue(i, forKey: parent) == nil else { throw .invalidTable("dimension \(parentName) has more than one child level") }
        }
        var chains: [[Int]] = []
        for (i, d) in dimensions.enumerated() where d.parent == nil {
            var chain = [i]
            while let next = childOf[chain.last!] { chain.append(next) }
            chains.append(chain)
        }
        guard chains.reduce(0, { $0 + $1.count }) == dimensions.count else { throw .invalidTable("the dimension hierarchy has a cycle") }
        return chains
    }

    private static func checkMeasures(_ measures: [TableMeasure]) throws(DisclosureError) {
        var seen: Set<String> = []
        for m in measures where !seen.insert(m.name).inserted { throw .invalidTable("measure \(m.name) appears twice") }
    }

    /// True when no non-nil value follows a nil one.
    private static func isPrefix(_ values: [String?]) -> Bool {
        let level = values.prefix { $0 != nil }.count
        return values.dropFirst(level).allSatisfy { $0 == nil }
    }
}
