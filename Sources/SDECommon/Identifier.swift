/// The two shapes of name the broker accepts from files, the command line and callers: every check of a "safe
/// identifier" goes through one of these, so a name valid in one place is valid in every other.
///
/// The rules differ because their uses do: a ``isName(_:)`` names things people talk about (users, projects, queries,
/// the operator), while a ``isSQLName(_:)`` is written into SQL text.
///
/// ```swift
/// Identifier.isName("care-quality.2026")  // true: a policy id
/// Identifier.isSQLName("weekly_cost")     // true: a column name
/// Identifier.isSQLName("Weekly-Cost")     // false
/// ```
public enum Identifier {
    /// Whether `text` is a name: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or digit.
    ///
    /// Policy ids (users, organisations, projects, queries, profiles, releases), the operator's name and a caller's
    /// parameter name repeated in a message follow this rule.
    public static func isName(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, scalars.count <= 64, isLetterOrDigit(first) else { return false }
        return scalars.allSatisfy { isLetterOrDigit($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// Whether `text` is a plain lower-case SQL identifier, `[a-z_][a-z0-9_]{0,62}`: PostgreSQL's unquoted identifier
    /// (at most 63 bytes, never case-folded).
    ///
    /// Catalogue columns, views and schemas, and database names follow this rule; code that writes one into SQL also
    /// double-quotes it, so even a reserved word is read as a name.
    public static func isSQLName(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, scalars.count <= 63, first == "_" || ("a"..."z").contains(first) else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// How a message names a thing a caller typed: `kind 'text'` when `text` is a name (``isName(_:)``), otherwise
    /// `kind named in the request`, so that no caller's text (quotes, formulas, control characters, markup) is ever
    /// repeated back. Messages read either way: "There is no \(mention)."
    ///
    /// ```swift
    /// Identifier.mention("P2025-002", as: "project")      // "project 'P2025-002'"
    /// Identifier.mention("E06000001'--'", as: "project")  // "project named in the request"
    /// ```
    public static func mention(_ text: String, as kind: String) -> String {
        isName(text) ? "\(kind) '\(text)'" : "\(kind) named in the request"
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
