@testable import SDEStore
import Testing

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesCommentsAndDollarBodies() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'semi;colon');
            /* block; comment */ CREATE TABLE "b;c" (y int);
            DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;
            CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
            SELECT 'it''s; fine'
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 5)
        #expect(statements[0].hasSuffix("DEFAULT 'semi;colon')"))
        #expect(statements[1].hasSuffix(#"CREATE TABLE "b;c" (y int)"#))
        #expect(statements[2] == "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$")
        #expect(statements[3].contains("$body$ SELECT 1; $body$"))
        #expect(statements[4] == "SELECT 'it''s; fine'")
    }

    @Test func blankAndCommentOnlyScriptsHaveNoStatements() {
        #expect(SQLScript.statements("  \n-- only a comment;\n\n").isEmpty)
    }
}
