import SDEAudit
import SDECommon
import Testing

@Suite struct AuditEncodingTests {
    /// A fixed first event: any change to the canonical encoding or the hashing rule changes its line and hash.
    static func goldenEvent() throws -> AuditEvent {
        let draft = try AuditEventDraft(
            actor: "u.khan", role: "researcher", project: "P2026-003", action: .queryRun, target: "requests-by-la-quarter",
            parameters: ["to": "2024Q1", "from": "2023Q2"], policyDigest: .sha256(of: Array("policy".utf8)), outcome: .allowed,
            cells: AuditCellCounts(released: 40, suppressed: ["threshold": 3, "secondary": 2]), outputDigest: .sha256(of: Array("table".utf8)))
        return AuditChain().seal(draft, at: AuditTimestamp(millisecondsSinceEpoch: 1_795_701_787_123)!)
    }

    @Test func goldenLineAndHash() throws {
        let event = try AuditEncodingTests.goldenEvent()
        let expected =
            #"{"action":"query.run","actor":"u.khan","cells_released":40,"cells_suppressed":{"secondary":2,"threshold":3},"checkpoint":null,"#
            + #""hash":"GOLDEN","outcome":"allowed","#
            + #""output_sha256":"\#(Hex.sha256(Array("table".utf8)))","parameters":{"from":"2023Q2","to":"2024Q1"},"#
            + #""policy_digest":"\#(Hex.sha256(Array("policy".utf8)))","prev_hash":"\#(String(repeating: "0", count: 64))","#
            + #""project":"P2026-003","reason":null,"role":"researcher","sequence":1,"target":"requests-by-la-quarter","#
            + #""time":"2026-11-26T14:03:07.123Z","version":1}"#
        #expect(event.hash.hex == "9736e4f6585890adf2192d08bf5b1e6e4bec09e8f50a7cd818e38c702e4a81d7")
        #expect(ChainFixture.line(event) == expected.replacing("GOLDEN", with: event.hash.hex))
    }

    @Test func hashIsSHA256OfPreviousHashNewlineAndCanonicalBodyWithoutHash() throws {
        let fixture = try ChainFixture(count: 8)
        for event in fixture.events {
            let body = event.jsonValue(includingHash: false).canonicalBytes
            let input = Array(event.prevHash.hex.utf8) + [0x0A] + body
            #expect(event.hashInput == input)
            #expect(Hex.sha256(input) == event.hash.hex)
            #expect(event.computedHash == event.hash)
            #expect(!String(decoding: body, as: UTF8.self).contains(#""hash""#))
        }
        #expect(fixture.events[0].prevHash.hex == String(repeating: "0", count: 64))
        #expect(fixture.events[0].sequence == 1)
    }

    /// Events with every kind of awkward value, built as a database row would be.
    static let awkwardStrings = [
        "", "quote \" and backslash \\", "line\nfeed\r\ttab", "\u{01}\u{08}\u{0C}\u{1F}\u{7F}",
        "é — ünïcødé 🏥", "e\u{301}", "/slash/", "a,b;c",
    ]

    static func awkwardEvent(_ text: String) -> AuditEvent {
        let checkpoint = AuditCheckpoint(
            head: AuditHead(sequence: 41, hash: .sha256(of: Array(text.utf8))), keyID: "0123456789abcdef", signature: Array(0..<64))
        let unsealed = AuditEvent(
            sequence: 42, time: AuditTimestamp(millisecondsSinceEpoch: -1)!, actor: text, role: text.isEmpty ? nil : text, project: text,
            action: AuditAction(rawValue: text), target: text, parameters: [text: text, "B": "1", "a": "2", "_": text, "ü": "3", "aa": ""],
            policyDigest: nil, outcome: .error, reason: text, cells: AuditCellCounts(released: 0, suppressed: [text: 1, "z": 0]),
            outputDigest: nil, checkpoint: text.isEmpty ? nil : checkpoint, prevHash: .sha256(of: [1]), hash: .zero)
        return AuditEvent(
            sequence: 42, time: unsealed.time, actor: text, role: unsealed.role, project: text, action: unsealed.action, target: text,
            parameters: unsealed.parameters, policyDigest: nil, outcome: .error, reason: text, cells: unsealed.cells, outputDigest: nil,
            checkpoint: unsealed.checkpoint, prevHash: unsealed.prevHash, hash: unsealed.computedHash)
    }

    @Test(arguments: awkwardStrings)
    func fastEncodingEqualsCanonicalJSONValueAndRoundTrips(text: String) throws {
        let event = AuditEncodingTests.awkwardEvent(text)
        let line = AuditJSONL.encode(event)
        #expect(line == event.jsonValue().canonicalBytes)
        #expect(!line.contains(0x0A))
        let decoded = try AuditJSONL.decode(line)
        #expect(decoded == event)
        #expect(AuditJSONL.encode(decoded) == line)
        #expect(decoded.computedHash == event.hash)
    }

    @Test func chainEventsRoundTripThroughJSONL() throws {
        let fixture = try ChainFixture(count: 30)
        var file: [UInt8] = []
        for event in fixture.events { AuditJSONL.append(event, to: &file) }
        let decoded = try file.split(separator: 0x0A).map { try AuditJSONL.decode($0) }
        #expect(decoded == fixture.events)
        #expect(try AuditJSONL.decode(fixture.lines[5]) == fixture.events[5])
    }

    @Test(arguments: [
        ("{\"action\"", "{ \"action\""),
        ("\"actor\":", "\"actor\": "),
        (#""action":"query.run","actor":"u.khan""#, #""actor":"u.khan","action":"query.run""#),
        (#""cells_suppressed":{"secondary":2,"threshold":3}"#, #""cells_suppressed":{"threshold":3,"secondary":2}"#),
        (#""parameters":{"from":"2023Q2","#, #""parameters":{"from":"2023Q2","from":"2023Q2","#),
        (#""reason":null,"#, ""),
        (#""version":1}"#, #""version":1,"zzz":1}"#),
        (#""version":1"#, #""version":2"#),
        (#""sequence":1"#, #""sequence":01"#),
        (#""sequence":1"#, #""sequence":1.0"#),
        (#""cells_released":40"#, #""cells_released":+40"#),
        ("requests-by-la-quarter\"", "requests-by-la-quarte\\u0072\""),
        ("requests-by-la-quarter\"", "requests\\/by-la-quarter\""),
        (".123Z", "Z"),
        (".123Z", ".123+00:00"),
        (#""outcome":"allowed""#, #""outcome":"maybe""#),
        (#""reason":null"#, #""reason":false"#),
        ("}", "}\n"),
        ("}", "} "),
    ])
    func nonCanonicalLineIsRejected(original: String, replacement: String) throws {
        let line = ChainFixture.line(try AuditEncodingTests.goldenEvent())
        let mutated = original == "}" ? line + replacement.dropFirst() : line.replacing(original, with: replacement, maxReplacements: 1)
        #expect(mutated != line)
        let error = #expect(throws: AuditError.self) { try AuditJSONL.decode(mutated) }
        #expect(error?.code == .malformedLine)
    }

    @Test func upperCaseHexAndOtherEscapesAreRejected() throws {
        let event = try AuditEncodingTests.goldenEvent()
        let line = ChainFixture.line(event)
        let upper = line.replacing(event.hash.hex, with: event.hash.hex.uppercased())
        #expect(upper != line)
        #expect(throws: AuditError.self) { try AuditJSONL.decode(upper) }
        let awkward = ChainFixture.line(AuditEncodingTests.awkwardEvent("line\nfeed\u{01}"))
        for (canonical, other) in [(#"\n"#, #"\u000a"#), (#"\u0001"#, #"\u0001"#.uppercased()), (#"\u0001"#, #"\b"#)] {
            let mutated = awkward.replacing(canonical, with: other, maxReplacements: 1)
            #expect(mutated != awkward)
            #expect(throws: AuditError.self) { try AuditJSONL.decode(mutated) }
        }
    }

    @Test func rawControlCharacterAndInvalidUTF8AreRejected() throws {
        let line = Array(ChainFixture.line(try AuditEncodingTests.goldenEvent()).utf8)
        let at = line.firstIndex(of: UInt8(ascii: "k"))!  // inside "u.khan"
        for byte: UInt8 in [0x0A, 0x01, 0xFF, 0xC3] {
            var mutated = line
            mutated[at] = byte
            let error = #expect(throws: AuditError.self) { try AuditJSONL.decode(mutated) }
            #expect(error?.code == .malformedLine)
        }
    }

    /// Keys in increasing byte order that Swift treats as one key (é precomposed and decomposed) would lose a
    /// member on decoding; only the re-encoding check notices.
    @Test func keysThatCollapseOnDecodingAreRejected() throws {
        let line = ChainFixture.line(try AuditEncodingTests.goldenEvent())
        let collapsing = line.replacing(#"{"from":"2023Q2","to":"2024Q1"}"#, with: "{\"e\u{301}\":\"1\",\"\u{E9}\":\"2\"}")
        #expect(collapsing != line)
        let error = #expect(throws: AuditError.self) { try AuditJSONL.decode(collapsing) }
        #expect(error?.message.contains("not canonical") == true)
    }

    @Test func canonicalButEditedLineDecodesAndOnlyTheHashCatchesIt() throws {
        let event = try AuditEncodingTests.goldenEvent()
        let edited = try AuditJSONL.decode(ChainFixture.line(event).replacing(#""project":"P2026-003""#, with: #""project":null"#))
        #expect(edited.project == nil)
        #expect(edited.hash == event.hash)
        #expect(edited.computedHash != edited.hash)
    }
}
