/// Why a vetted query could not be compiled, or why a result row does not fit its compiled layout.
///
/// Branch on ``code``; ``message`` names catalogue identifiers and column positions, never data values or SQL text.
///
/// ```swift
/// do { _ = try QueryCompiler.compile(run) } catch where error.code == .invalidCatalogue { ... }
/// ```
public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of query error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidCatalogue = "invalid_catalogue"
            case unexpectedResult = "unexpected_result"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The query or its dataset names something the compiler refuses; nothing is run.
        public static let invalidCatalogue = Code(.invalidCatalogue)
        /// A result row does not match the compiled layout; the result is refused rather than guessed at.
        public static let unexpectedResult = Code(.unexpectedResult)

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

    /// An ``Code/invalidCatalogue`` error: a bad identifier, a column the dataset does not declare, a branching hierarchy.
    public static func invalidCatalogue(_ message: String) -> QueryError { QueryError(.invalidCatalogue, message) }

    /// An ``Code/unexpectedResult`` error: a wrong column count or type, a total with a value, a missing dimension value.
    public static func unexpectedResult(_ message: String) -> QueryError { QueryError(.unexpectedResult, message) }
}
