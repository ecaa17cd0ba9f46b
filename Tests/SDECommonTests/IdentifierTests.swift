import SDECommon
import Testing

/// The two identifier rules every target checks names against.
@Suite struct IdentifierTests {
    @Test(arguments: ["a", "p1", "care-quality.2026", "IG_officer", "9lives", String(repeating: "x", count: 64)])
    func namesAreAccepted(_ text: String) {
        #expect(Identifier.isName(text))
    }

    @Test(arguments: ["", "-p", ".hidden", "_x", "a b", "a'b", "é", "a/b", String(repeating: "x", count: 65)])
    func notNamesAreRefused(_ text: String) {
        #expect(!Identifier.isName(text))
    }

    @Test(arguments: ["a", "_x", "weekly_cost", "la_code2", String(repeating: "x", count: 63)])
    func sqlNamesAreAccepted(_ text: String) {
        #expect(Identifier.isSQLName(text))
    }

    @Test(arguments: ["", "La_code", "1a", "la-code", "la code", "a.b", "a\"b", "la_code;", "é", String(repeating: "x", count: 64)])
    func notSQLNamesAreRefused(_ text: String) {
        #expect(!Identifier.isSQLName(text))
    }
}
