/// Why disclosure control refused a table. Every error means no data is released (fail closed).
public struct DisclosureError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidRules
        case invalidTable
        case auditFailed
        case solverFailed
    }

    private let code: Code
    /// A human-readable explanation (names rows and measures, never data values).
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The profile's parameters are out of range.
    public static func invalidRules(_ message: String) -> DisclosureError { DisclosureError(.invalidRules, message) }

    /// The statistics table is malformed (shape, hierarchy, impossible statistics).
    public static func invalidTable(_ message: String) -> DisclosureError { DisclosureError(.invalidTable, message) }

    /// Even after extra suppression some suppressed cell could be narrowed below its required width.
    public static func auditFailed(_ message: String) -> DisclosureError { DisclosureError(.auditFailed, message) }

    /// The linear-programming solver did not reach an optimum.
    public static func solverFailed(_ message: String) -> DisclosureError { DisclosureError(.solverFailed, message) }

    /// A stable machine-readable code: `invalid_rules`, `invalid_table`, `audit_failed` or `solver_failed`.
    public var identifier: String {
        switch code {
        case .invalidRules: "invalid_rules"
        case .invalidTable: "invalid_table"
        case .auditFailed: "audit_failed"
        case .solverFailed: "solver_failed"
        }
    }

    /// `code: message`.
    public var description: String { "\(identifier): \(message)" }
}
