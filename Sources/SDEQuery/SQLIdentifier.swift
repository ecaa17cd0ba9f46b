/// A column or schema name from the policy catalogue, checked against a strict pattern before it is written into SQL.
///
/// The pattern is PostgreSQL's unquoted lower-case identifier: a letter or `_`, then letters, digits or `_`, at most
/// 63 bytes. Checked names are also double-quoted in the SQL, so even a reserved word would be read as a name.
struct SQLIdentifier: Sendable, Hashable {
    /// The name as in the catalogue.
    let name: String

    /// The name, or an error naming `what` when it fails the pattern.
    init(_ name: String, _ what: @autoclosure () -> String) throws(QueryError) {
        guard Self.isValid(name) else { throw .invalidCatalogue("\(what()) '\(name)' is not a plain lower-case SQL identifier") }
        self.name = name
    }

    /// `"name"`.
    var quoted: String { "\"\(name)\"" }

    /// Whether `name` matches `[a-z_][a-z0-9_]{0,62}`.
    static func isValid(_ name: String) -> Bool {
        let scalars = name.unicodeScalars
        guard let first = scalars.first, scalars.count <= 63, first == "_" || ("a"..."z").contains(first) else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
