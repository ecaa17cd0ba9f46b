import SDECommon

/// A column or schema name from the policy catalogue, checked against a strict pattern before it is written into SQL.
///
/// The pattern is ``Identifier/isSQLName(_:)``, PostgreSQL's unquoted lower-case identifier. Checked names are also
/// double-quoted in the SQL, so even a reserved word would be read as a name.
struct SQLIdentifier: Sendable, Hashable {
    /// The name as in the catalogue.
    let name: String

    /// The name, or an error naming `what` when it fails the pattern.
    init(_ name: String, _ what: @autoclosure () -> String) throws(QueryError) {
        guard Identifier.isSQLName(name) else { throw .invalidCatalogue("\(what()) '\(name)' is not a plain lower-case SQL identifier") }
        self.name = name
    }

    /// `"name"`.
    var quoted: String { "\"\(name)\"" }
}
