import SDECommon
import Testing

/// One RFC 4180 field writer for every CSV the broker produces, neutralising text a spreadsheet would run as a formula.
@Suite struct CSVFieldTests {
    @Test(arguments: [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "\"'\r=1\""),
        ("＝1+1", "'＝1+1"), ("＋1", "'＋1"), ("－1", "'－1"), ("＠x", "'＠x"),
        ("=HYPERLINK(\"http://x.test\",\"a,b\")", "\"'=HYPERLINK(\"\"http://x.test\"\",\"\"a,b\"\")\""),
    ])
    func formulaTriggersArePrefixed(_ value: String, _ expected: String) {
        #expect(CSVField.text(value) == expected)
    }

    @Test(arguments: [
        ("", ""), ("E06000001", "E06000001"), ("a=b", "a=b"), ("North East, inner", "\"North East, inner\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
    ])
    func otherTextIsOnlyQuotedWhenNeeded(_ value: String, _ expected: String) {
        #expect(CSVField.text(value) == expected)
    }

    @Test func numbersAreNotNeutralised() {
        #expect(CSVField.number("-1.5000") == "-1.5000")
        #expect(CSVField.number("12") == "12")
    }
}
