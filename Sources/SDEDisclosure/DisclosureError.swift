/// Why disclosure control refused a table. Every error means no data is released (fail closed).
///
/// Branch on ``code``; ``message`` names rows and measures, never data values.
///
/// ```swift
/// do { _ = try control.protect(table) } catch where error.code == .auditFailed { ... }
/// ```
public struct DisclosureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of disclosure error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidRules = "invalid_rules"
            case invalidTable = "invalid_table"
            case auditFailed = "audit_failed"
            case solverFailed = "solver_failed"
            case solverUnavailable = "solver_unavailable"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The profile's parameters are out of range.
        public static let invalidRules = Code(.invalidRules)
        /// The statistics table is malformed (shape, hierarchy, impossible statistics).
        public static let invalidTable = Code(.invalidTable)
        /// Even after extra suppression some suppressed cell could be narrowed below its required width.
        public static let auditFailed = Code(.auditFailed)
        /// The linear-programming solver did not reach an optimum.
        public static let solverFailed = Code(.solverFailed)
        /// The solver library (GLPK) is not installed, so no suppression pattern can be audited and nothing is released.
        public static let solverUnavailable = Code(.solverUnavailable)

        /// The snake_case name of the code.
        public var description: String { base.rawValue }
    }

    /// What went wrong, for branching.
    public let code: Code
    /// What went wrong, for people.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// An ``Code/invalidRules`` error.
    public static func invalidRules(_ message: String) -> DisclosureError { DisclosureError(.invalidRules, message) }
    /// An ``Code/invalidTable`` error.
    public static func invalidTable(_ message: String) -> DisclosureError { DisclosureError(.invalidTable, message) }
    /// An ``Code/auditFailed`` error.
    public static func auditFailed(_ message: String) -> DisclosureError { DisclosureError(.auditFailed, message) }
    /// An ``Code/solverFailed`` error.
    public static func solverFailed(_ message: String) -> DisclosureError { DisclosureError(.solverFailed, message) }
    /// A ``Code/solverUnavailable`` error.
    public static func solverUnavailable(_ message: String) -> DisclosureError { DisclosureError(.solverUnavailable, message) }
}
