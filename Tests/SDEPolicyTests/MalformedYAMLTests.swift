import Foundation
import SDEPolicy
import SDEPolicyFiles
import SDEServiceFakes
import Testing

/// Malformed or hostile YAML in place of users.yaml, and the error it must produce.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let line: Int
    let message: String

    var testDescription: String { name }

    init(_ name: String, _ text: String, line: Int, _ message: String) {
        self.init(name, Array(text.utf8), line: line, message)
    }

    init(_ name: String, _ bytes: [UInt8], line: Int, _ message: String) {
        self.name = name
        self.bytes = bytes
        self.line = line
        self.message = message
    }

    static let all: [MalformedCase] = [
        MalformedCase("tab indentation", "users:\n\t- id: a\n", line: 2, "tab character in indentation"),
        MalformedCase("duplicate keys", "organisations: []\nusers: []\nusers: []\n", line: 2, "duplicate key 'users'"),
        MalformedCase(
            "duplicate nested keys", "users:\n  - id: a\n    name: A\n    id: b\n", line: 2, "duplicate key 'id'"),
        MalformedCase(
            "huge file", "users:\n" + String(repeating: "  # padding padding padding padding padding padding padding\n", count: 20_000), line: 1,
            "policy files may be at most"),
        MalformedCase(
            "deep flow nesting", "users: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n", line: 1,
            "nesting is deeper"),
        MalformedCase("deep compact sequences", String(repeating: "- ", count: 3000) + "x\n", line: 1, "nesting is deeper"),
        MalformedCase(
            "deep block mappings", (0..<40).map { String(repeating: " ", count: $0 * 2) + "k\($0):" }.joined(separator: "\n") + " x\n", line: 17,
            "nesting is deeper"),
        MalformedCase("binary junk", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0xFF, 0xFE, 0x00], line: 1, "not UTF-8 text"),
        MalformedCase("NUL byte", "users:\n  - id: a\u{0}\n", line: 2, "control character U+0000"),
        MalformedCase(
            "billion laughs", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n",
            line: 1, "anchors, aliases and tags"),
        MalformedCase("alias as key", "a: &k x\n? *k\n: y\n", line: 1, "anchors, aliases and tags"),
        MalformedCase("custom tag", "users: !!python/object:os.system x\n", line: 1, "anchors, aliases and tags"),
        MalformedCase("unclosed flow", "users: [a, b\n", line: 2, "invalid YAML"),
        MalformedCase("unclosed quote", "users: \"abc\n", line: 2, "invalid YAML"),
        MalformedCase("bad indentation", "users:\n  - id: a\n   name: b\n", line: 3, "invalid YAML"),
        MalformedCase("two documents", "users: []\n---\nusers: []\n", line: 2, "invalid YAML"),
        MalformedCase("empty file", "", line: 1, "file is empty"),
        MalformedCase("only a comment", "# nothing here\n", line: 1, "file is empty"),
        MalformedCase("a list at the top", "- a\n- b\n", line: 1, "the users file must be a mapping"),
    ]
}

@Suite struct MalformedYAMLTests {
    @Test(arguments: MalformedCase.all)
    func malformedYAMLGivesAClearErrorNotACrash(_ malformed: MalformedCase) throws {
        var files = try Fixture.standard.sources().filter { $0.path != "users.yaml" }
        files.append(PolicySourceFile(path: "users.yaml", bytes: malformed.bytes))
        do {
            _ = try PolicySet.load(files, reference: Fixture.reference)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidPolicy)
            let match = error.diagnostics.first { $0.file == "users.yaml" && $0.message.contains(malformed.message) }
            #expect(match?.line == malformed.line, "\(error.diagnostics.map(\.description))")
        }
    }

    @Test func aPolicyDirectoryThatCannotLoadSaysWhichKindOfFailure() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-policy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for subdirectory in ["projects", "queries", "root"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + subdirectory, withIntermediateDirectories: true)
        }
        for (path, text) in try Fixture.standard.signedFiles() {
            try Data((path == "users.yaml" ? "users: [\n" : text).utf8).write(to: URL(fileURLWithPath: directory + "/" + path))
        }
        let invalid = #expect(throws: PolicyError.self) { try PolicyDirectory.load(at: directory, reference: Fixture.reference) }
        #expect(invalid?.code == .invalidPolicy)
        #expect(invalid?.diagnostics.contains { $0.file == directory + "/users.yaml" } == true)
        #expect(invalid?.description.hasPrefix("invalid_policy: policy set is invalid: ") == true)
        let missing = #expect(throws: PolicyError.self) { try PolicyDirectory.load(at: directory + "/none", reference: Fixture.reference) }
        #expect(missing?.code == .unreadable)
    }

    @Test func textThatMerelyContainsIndicatorsIsFine() throws {
        var fixture = Fixture.standard
        fixture.edit("projects/p1.yaml", "title: Waits study", "title: 'R&D *waits* [pilot]: #1'")
        fixture.edit(
            "projects/p1.yaml", "purpose: Study waits.", "purpose: >\n  Study waits & outcomes; *not* a tag: !fine\n  - still text [really\n")
        fixture.edit("users.yaml", "name: Reggie Lator", "name: \"Reggie \\\"Reg\\\" Lator # not a comment\"")
        let policy = try fixture.load()
        #expect(policy.projects["p1"]?.title == "R&D *waits* [pilot]: #1")
        #expect(policy.projects["p1"]?.purpose.contains("- still text [really") == true)
        #expect(policy.users["reg"]?.name == "Reggie \"Reg\" Lator # not a comment")
    }

    @Test func windowsLineEndingsAreAccepted() throws {
        var fixture = Fixture.standard
        fixture.files["users.yaml"] = fixture.files["users.yaml"]?.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try fixture.load().users.count == 7)
    }
}
