import SDECommon
import SDEPolicy
import SDEServiceFakes
import Testing

/// A caller's id is repeated in a refusal only when it is a plain identifier (issue 13: `There is no project
/// 'E06000001'--'`); anything else is "project named in the request".
@Suite struct EchoTests {
    static let hostile = [
        "E06000001'--'", "=WEBSERVICE(\"http://x.test\")", "p1\nInjected: yes", "<script>x</script>", String(repeating: "p", count: 65),
    ]

    static func denials(for text: String) throws -> [(what: String, denial: AccessDenial)] {
        let policy = try Fixture.standard.load()
        let cases: [(String, String, AccessAction)] = [
            ("project", "res", .runQuery(project: text, query: "q1", parameters: [:])),
            ("project", "res", .describeProject(project: text)),
            ("vetted query", "res", .runQuery(project: "p1", query: text, parameters: [:])),
            ("vetted query", "op", .showQuery(query: text)),
            ("release", "reg", .readRelease(release: text)),
            ("release", "op", .publishRelease(release: text)),
            ("user", text, .readAudit),
        ]
        return try cases.map { what, user, action in
            (what, try #require(policy.decide(user: user, action: action, now: Fixture.today).denial, "\(what) \(action)"))
        }
    }

    @Test(arguments: hostile)
    func aHostileIdIsNeverRepeated(_ text: String) throws {
        for (what, denial) in try Self.denials(for: text) {
            #expect(!denial.message.contains(text), "\(denial.message)")
            #expect(!denial.message.contains("'"), "\(denial.message)")
            #expect(denial.message.contains("There is no \(what) named in the request"), "\(denial.message)")
        }
    }

    @Test func aPlainIdIsRepeatedQuoted() throws {
        for (what, denial) in try Self.denials(for: "x9") {
            #expect(denial.message.contains("'x9'"), "\(what): \(denial.message)")
        }
    }

    @Test func identifierMentionFollowsTheNameRule() {
        #expect(Identifier.mention("P2025-002", as: "project") == "project 'P2025-002'")
        #expect(Identifier.mention("E06000001'--'", as: "project") == "project named in the request")
    }
}
