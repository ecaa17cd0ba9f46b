/// Which additive quantity of a cell an audited interval is about.
public enum AuditComponent: String, Sendable, Hashable, CaseIterable {
    /// The cell's own value (persons, events, magnitude total).
    case value
    /// A rate's numerator persons.
    case numerator
    /// A rate's denominator persons.
    case denominator
}

/// What an attacker can deduce about one suppressed cell: the interval its true value must lie in.
public struct AuditedCell: Sendable, Hashable {
    /// Numerical slack allowed on the width comparison.
    public static let tolerance = 1e-6

    /// The suppressed cell.
    public let position: CellPosition
    /// Which quantity of the cell.
    public let component: AuditComponent
    /// The smallest value consistent with everything released.
    public let minimum: Double
    /// The largest value consistent with everything released; `.infinity` when unbounded.
    public let maximum: Double
    /// The width the interval must have: `threshold` for counts, `max(1, pPercent × total)` for magnitudes.
    public let requiredWidth: Double

    /// `maximum - minimum`.
    public var width: Double { maximum - minimum }

    /// The audit criterion: `maximum - minimum >= requiredWidth - tolerance`.
    public var isProtected: Bool { width >= requiredWidth - Self.tolerance }
}

/// The attacker audit of a suppression pattern: for every suppressed cell of every additive measure, the interval an
/// attacker can deduce from the released cells and the table's additive relations.
///
/// The attacker's linear program, one per measure quantity: a variable per cell; suppressed cells in `[0, +inf)`;
/// released cells within what their release reveals (see the rounding rules of ``DisclosureControl``); the equations
/// `margin = sum of children` for dimensions that partition persons (and for events and magnitudes over every
/// dimension), and `margin <= sum of children`, `margin >= each child` for person counts over other dimensions.
/// Each suppressed cell is minimised and maximised. True values are not part of the report.
public struct AuditReport: Sendable, Hashable {
    /// One entry per suppressed cell and additive quantity, ordered by position.
    public let cells: [AuditedCell]

    /// Whether every suppressed cell is protected.
    public var passed: Bool { cells.allSatisfy(\.isProtected) }

    /// The suppressed cells an attacker can narrow below their required width.
    public var failures: [AuditedCell] { cells.filter { !$0.isProtected } }

    /// The audited interval of `component` of the cell at `position`, if that cell was suppressed and audited.
    public func interval(at position: CellPosition, _ component: AuditComponent = .value) -> AuditedCell? {
        cells.first { $0.position == position && $0.component == component }
    }
}

extension AdditiveComponent {
    /// Solves the attacker's linear program for every suppressed row of this quantity.
    ///
    /// The system is first reduced exactly (``AttackerSystem``) and split into independent blocks; each block is one
    /// GLPK problem, built once and re-solved per bound with a changed objective from the previous optimal basis,
    /// which stays primal feasible, so each bound costs a few simplex pivots.
    func audit(structure: TableStructure, suppressed: [Bool]) throws(DisclosureError) -> [AuditedCell] {
        guard suppressed.contains(true) else { return [] }
        let system = AttackerSystem(self, structure: structure, suppressed: suppressed)
        var ranges: [Int: (Double, Double)] = [:]
        for block in system.blocks() {
            let local = Dictionary(uniqueKeysWithValues: block.columns.enumerated().map { ($1, $0) })
            let program = try LinearProgram(columns: block.columns.count)
            for (j, column) in block.columns.enumerated() { program.setBounds(column: j, lower: system.lower[column], upper: system.upper[column]) }
            for constraint in block.constraints {
                program.addConstraint(constraint.terms.map { (local[$0.column]!, $0.coefficient) }, constraint.rhs, isEquation: constraint.isEquation)
            }
            program.load()
            for target in block.targets { ranges[target] = try program.range(of: local[target]!) }
        }
        return suppressed.indices.filter { suppressed[$0] }.map { row in
            let (minimum, maximum) = ranges[row] ?? (0, .infinity)
            return AuditedCell(
                position: CellPosition(row: row, measure: measure), component: component, minimum: minimum, maximum: maximum,
                requiredWidth: requiredWidth[row])
        }
    }
}

/// One GLPK problem, used on one thread only: it is created, solved and deleted inside one synchronous call (no
/// suspension point), and GLPK 5's environment, including its terminal-output switch, is thread-local (libglpk is
/// built with thread-local storage), so concurrent audits on other threads never share solver state. GLPK's terminal
/// output is switched off on this thread for the problem's lifetime and the previous setting restored after.
private final class LinearProgram {
    private let glpk: GLPK
    private let problem: GLPK.Problem
    private let previousTerminalOutput: Int32
    private var rowIndices: [Int32] = [0]
    private var columnIndices: [Int32] = [0]
    private var coefficients: [Double] = [0]
    private var rowBounds: [(kind: Int32, value: Double)] = []
    private let parameters: SimplexParameters

    /// A minimisation problem with `columns` free variables; fails closed when GLPK cannot be loaded.
    init(columns: Int) throws(DisclosureError) {
        glpk = try GLPK.load()
        parameters = try SimplexParameters(glpk)
        guard let problem = glpk.createProblem() else { throw .solverFailed("GLPK could not create a problem") }
        previousTerminalOutput = glpk.termOut(GLPK.off)
        self.problem = problem
        _ = glpk.addColumns(problem, Int32(columns))
    }

    deinit {
        glpk.deleteProblem(problem)
        _ = glpk.termOut(previousTerminalOutput)
    }

    /// Bounds column `column` (0-based) to `lower ... upper`; an infinite `upper` means unbounded above.
    func setBounds(column: Int, lower: Double, upper: Double) {
        let j = Int32(column + 1)
        if upper == .infinity {
            glpk.setColumnBounds(problem, j, GLPK.lowerBounded, lower, 0)
        } else if upper == lower {
            glpk.setColumnBounds(problem, j, GLPK.fixed, lower, lower)
        } else {
            glpk.setColumnBounds(problem, j, GLPK.doubleBounded, lower, upper)
        }
    }

    /// Adds `sum of coefficient × column = rhs` (or `>= rhs` when not an equation).
    func addConstraint(_ terms: [(Int, Double)], _ rhs: Double, isEquation: Bool) {
        rowBounds.append((isEquation ? GLPK.fixed : GLPK.lowerBounded, rhs))
        let row = Int32(rowBounds.count)
        for (column, coefficient) in terms {
            rowIndices.append(row)
            columnIndices.append(Int32(column + 1))
            coefficients.append(coefficient)
        }
    }

    /// Hands the constraints to GLPK and builds a starting basis.
    func load() {
        _ = glpk.addRows(problem, Int32(rowBounds.count))
        for (i, bound) in rowBounds.enumerated() { glpk.setRowBounds(problem, Int32(i + 1), bound.kind, bound.value, bound.value) }
        glpk.loadMatrix(problem, Int32(coefficients.count - 1), rowIndices, columnIndices, coefficients)
        glpk.advancedBasis(problem, 0)
    }

    /// The minimum and maximum of column `column` (0-based) over the feasible set; the maximum is `.infinity`
    /// when unbounded.
    func range(of column: Int) throws(DisclosureError) -> (Double, Double) {
        let j = Int32(column + 1)
        glpk.setObjectiveCoefficient(problem, j, 1)
        defer { glpk.setObjectiveCoefficient(problem, j, 0) }
        glpk.setObjectiveDirection(problem, GLPK.minimise)
        guard let minimum = try solve() else { throw .solverFailed("minimising a suppressed cell was unbounded") }
        glpk.setObjectiveDirection(problem, GLPK.maximise)
        return (minimum, try solve() ?? .infinity)
    }

    /// The optimum, or `nil` when unbounded.
    private func solve() throws(DisclosureError) -> Double? {
        var status = glpk.simplex(problem, parameters.pointer)
        if status != 0 {
            // A singular or ill-conditioned basis: restart from a fresh advanced basis once.
            glpk.advancedBasis(problem, 0)
            status = glpk.simplex(problem, parameters.pointer)
        }
        guard status == 0 else { throw .solverFailed("glp_simplex returned \(status)") }
        switch glpk.status(problem) {
        case GLPK.optimal: return glpk.objectiveValue(problem)
        case GLPK.unbounded: return nil
        case let other: throw .solverFailed("the attacker's program ended with GLPK status \(other)")
        }
    }
}
