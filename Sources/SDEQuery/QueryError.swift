/// Why a vetted query could not be compiled, or why a result row does not fit its compiled layout.
///
/// Messages name catalogue identifiers and column positions, never data values or SQL text.
public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidCatalogue
        case unexpectedResult
    }

    private let code: Code
    /// A human-readable explanation.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The query or its dataset names something the compiler refuses: an identifier that fails the strict pattern, a
    /// column the dataset does not declare, a hierarchy that branches. Nothing is run.
    public static func invalidCatalogue(_ message: String) -> QueryError { QueryError(.invalidCatalogue, message) }

    /// A result row from the database does not match the compiled layout (wrong column count or type, a total flag
    /// with a value, a missing dimension value). The result is refused rather than guessed at.
    public static func unexpectedResult(_ message: String) -> QueryError { QueryError(.unexpectedResult, message) }

    /// A stable machine-readable code: `invalid_catalogue` or `unexpected_result`.
    public var identifier: String {
        switch code {
        case .invalidCatalogue: "invalid_catalogue"
        case .unexpectedResult: "unexpected_result"
        }
    }

    /// `code: message`.
    public var description: String { "\(identifier): \(message)" }
}
