/// The attacker's linear system for one additive quantity, reduced without changing the set of values any suppressed
/// cell can take, then split into independent blocks.
///
/// Reductions, each exact:
/// 1. a released cell known exactly (fixed bounds) is a constant: it moves to the right-hand side;
/// 2. an inequality implied by the cells' own bounds (its smallest possible left side already meets the right side)
///    excludes nothing and is dropped, as is a constraint left with no variable;
/// 3. released cells that appear in one constraint only, with the same coefficient, matter only through their sum,
///    which takes every value between the sums of their bounds: they become one variable with those bounds.
///
/// What remains falls apart into blocks that share no variable; each block with a suppressed cell is solved alone.
struct AttackerSystem {
    /// `sum of coefficient × column (= or >=) rhs`.
    struct Constraint {
        var terms: [(column: Int, coefficient: Double)]
        var rhs: Double
        let isEquation: Bool
    }

    /// An independent part of the system.
    struct Block {
        /// Variables, as column ids.
        var columns: [Int] = []
        /// Constraints over those variables only.
        var constraints: [Constraint] = []
        /// Suppressed cells among the variables.
        var targets: [Int] = []
    }

    /// Lower bound per column: cells first (one per table row), then aggregates.
    private(set) var lower: [Double]
    /// Upper bound per column; `.infinity` for suppressed cells.
    private(set) var upper: [Double]
    private var constraints: [Constraint] = []
    private let suppressed: [Bool]

    init(_ component: AdditiveComponent, structure: TableStructure, suppressed: [Bool]) {
        self.suppressed = suppressed
        lower = suppressed.indices.map { suppressed[$0] ? 0 : component.releasedBounds[$0].lower }
        upper = suppressed.indices.map { suppressed[$0] ? .infinity : component.releasedBounds[$0].upper }
        for relation in structure.relations {
            if component.isEquation(relation) {
                add([(relation.parent, 1)] + relation.children.map { ($0, -1) }, isEquation: true)
            } else {
                add([(relation.parent, -1)] + relation.children.map { ($0, 1) }, isEquation: false)
                for child in relation.children { add([(relation.parent, 1), (child, -1)], isEquation: false) }
            }
        }
        aggregateSingletons()
    }

    /// Adds a homogeneous constraint after reductions 1 and 2.
    private mutating func add(_ terms: [(Int, Double)], isEquation: Bool) {
        var constraint = Constraint(terms: [], rhs: 0, isEquation: isEquation)
        var smallestLeftSide = 0.0
        for (column, coefficient) in terms {
            if lower[column] == upper[column] {
                constraint.rhs -= coefficient * lower[column]
            } else {
                constraint.terms.append((column, coefficient))
                smallestLeftSide += coefficient > 0 ? coefficient * lower[column] : coefficient * upper[column]
            }
        }
        guard !constraint.terms.isEmpty else { return }
        if !isEquation && smallestLeftSide >= constraint.rhs { return }
        constraints.append(constraint)
    }

    /// Reduction 3.
    private mutating func aggregateSingletons() {
        var uses = [Int](repeating: 0, count: lower.count)
        for constraint in constraints { for term in constraint.terms { uses[term.column] += 1 } }
        for c in constraints.indices {
            for coefficient in [1.0, -1.0] {
                let group = constraints[c].terms.filter { uses[$0.column] == 1 && !suppressed[$0.column] && $0.coefficient == coefficient }
                guard group.count > 1 else { continue }
                let columns = Set(group.map(\.column))
                lower.append(group.reduce(0) { $0 + lower[$1.column] })
                upper.append(group.reduce(0) { $0 + upper[$1.column] })
                constraints[c].terms.removeAll { columns.contains($0.column) }
                constraints[c].terms.append((lower.count - 1, coefficient))
            }
        }
    }

    /// The blocks that contain a suppressed cell.
    func blocks() -> [Block] {
        var parent = Array(lower.indices)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        for constraint in constraints {
            let first = root(constraint.terms[0].column)
            for term in constraint.terms.dropFirst() { parent[root(term.column)] = first }
        }
        var blockOfRoot: [Int: Int] = [:]
        var blocks: [Block] = []
        func block(of column: Int) -> Int {
            let r = root(column)
            if let b = blockOfRoot[r] { return b }
            blocks.append(Block())
            blockOfRoot[r] = blocks.count - 1
            return blocks.count - 1
        }
        var inConstraint = [Bool](repeating: false, count: lower.count)
        for constraint in constraints {
            blocks[block(of: constraint.terms[0].column)].constraints.append(constraint)
            for term in constraint.terms { inConstraint[term.column] = true }
        }
        for column in lower.indices where inConstraint[column] {
            let b = block(of: column)
            blocks[b].columns.append(column)
            if column < suppressed.count && suppressed[column] { blocks[b].targets.append(column) }
        }
        return blocks.filter { !$0.targets.isEmpty }
    }
}
