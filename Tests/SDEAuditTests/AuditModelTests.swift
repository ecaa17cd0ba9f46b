import SDEAudit
import SDECommon
import Testing

@Suite struct AuditModelTests {
    @Test func timestampIsCanonicalRFC3339WithMilliseconds() {
        let t = AuditTimestamp(millisecondsSinceEpoch: 1_795_701_787_123)!
        #expect(t.description == "2026-11-26T14:03:07.123Z")
        #expect(t.date == CivilDate(year: 2026, month: 11, day: 26))
        #expect(AuditTimestamp(rfc3339: "2026-11-26T14:03:07.123Z") == t)
        #expect(AuditTimestamp(millisecondsSinceEpoch: -1)!.description == "1969-12-31T23:59:59.999Z")
        #expect(AuditTimestamp(millisecondsSinceEpoch: 0)!.description == "1970-01-01T00:00:00.000Z")
        #expect(AuditTimestamp(rfc3339: "0001-01-01T00:00:00.000Z") != nil)
        #expect(AuditTimestamp(rfc3339: "9999-12-31T23:59:59.999Z") != nil)
        #expect(AuditTimestamp(millisecondsSinceEpoch: 253_402_300_800_000) == nil)
    }

    @Test(
        arguments: [
            ("2026-11-26T14:03:07.123Z", 1_795_701_787_123),
            ("2026-11-26T15:03:07.123+01:00", 1_795_701_787_123),
            ("2026-11-26T09:33:07.1-04:30", 1_795_701_787_100),
            ("2026-11-26T14:03:07Z", 1_795_701_787_000),
            ("2026-11-26T14:03:07.123456Z", 1_795_701_787_123),
            ("0001-01-01T00:00:00+01:00", -62_135_596_800_000),
            ("2026-11-26", 1_795_651_200_000),
        ] as [(String, Int64)])
    func timestampParsesWhatPeopleType(text: String, milliseconds: Int64) {
        #expect(AuditTimestamp(parsing: text)?.millisecondsSinceEpoch == milliseconds)
    }

    @Test(arguments: ["2026-02-30", "2026-11-26T24:00:00Z", "2026-11-26T14:03:07.Z", "2026-11-26 14:03:07Z", "2026-11-26T14:03:07", "26-11-2026"])
    func timestampRejectsNonsense(text: String) {
        #expect(AuditTimestamp(parsing: text) == nil)
        #expect(AuditTimestamp(rfc3339: text) == nil)
    }

    @Test func canonicalTimestampFormIsStrict() {
        #expect(AuditTimestamp(rfc3339: "2026-11-26T14:03:07Z") == nil)
        #expect(AuditTimestamp(rfc3339: "2026-11-26T14:03:07.123+00:00") == nil)
        #expect(AuditTimestamp(rfc3339: "2026-11-26t14:03:07.123Z") == nil)
    }

    @Test func digestIsStrictLowerCaseHex() {
        let digest = AuditDigest.sha256(of: Array("abc".utf8))
        #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(AuditDigest(hex: digest.hex) == digest)
        #expect(AuditDigest(bytes: digest.bytes) == digest)
        #expect(AuditDigest(hex: digest.hex.uppercased()) == nil)
        #expect(AuditDigest(hex: String(digest.hex.dropLast())) == nil)
        #expect(AuditDigest(hex: digest.hex + "0") == nil)
        #expect(AuditDigest(bytes: [1, 2, 3]) == nil)
        #expect(AuditDigest.zero.hex == String(repeating: "0", count: 64))
    }

    @Test func sealingIsDeterministicAndDoesNotMoveTheHead() throws {
        let draft = try ChainFixture.draft(0)
        let chain = AuditChain()
        let a = chain.seal(draft, at: ChainFixture.time(0))
        let b = chain.seal(draft, at: ChainFixture.time(0))
        #expect(a == b)
        #expect(chain.head == .genesis)
        #expect(chain.seal(draft, at: ChainFixture.time(1)).hash != a.hash)
        #expect(a.sequence == 1)
        #expect(a.prevHash == .zero)
    }

    @Test func advanceAcceptsOnlyTheNextLink() throws {
        var chain = AuditChain()
        let first = chain.seal(try ChainFixture.draft(0), at: ChainFixture.time(0))
        try chain.advance(to: first)
        #expect(chain.head == first.head)
        let second = chain.seal(try ChainFixture.draft(1), at: ChainFixture.time(1))
        for wrong in [first, second.forged(sequence: 3), second.forged(prevHash: .zero), second.forged(actor: "u.other", keepHash: true)] {
            let error = #expect(throws: AuditError.self) { try chain.advance(to: wrong) }
            #expect(error?.code == .doesNotExtendChain)
        }
        #expect(chain.head == first.head)
        try chain.advance(to: second)
        #expect(chain.head == AuditHead(sequence: 2, hash: second.hash))
    }

    @Test func checkpointSignsThePreviousHead() throws {
        let key = AuditSigningKey()
        var chain = AuditChain()
        let first = chain.append(try ChainFixture.draft(0), at: ChainFixture.time(0))
        let checkpoint = try chain.appendCheckpoint(at: ChainFixture.time(1), signedBy: key, policyDigest: .sha256(of: [1]))
        #expect(checkpoint.action == .auditCheckpoint)
        #expect(checkpoint.actor == AuditEventDraft.brokerActor)
        #expect(checkpoint.checkpoint?.head == first.head)
        #expect(checkpoint.checkpoint?.keyID == key.publicKey.keyID)
        // A signed tree head of the one event before it: the root of a one-leaf tree is that leaf's hash.
        let signed = try AuditTreeHead(note: try #require(checkpoint.checkpoint?.note), verifiedBy: key.publicKey)
        #expect(signed.size == 1 && signed.time == checkpoint.time && signed.policy == .default)
        #expect(signed.root == AuditMerkle.leafHash(AuditJSONL.encode(first)))
        #expect(checkpoint.checkpoint?.treeEdge == [signed.root])
        #expect(chain.head == checkpoint.head)
        var verifier = AuditVerifier(trustedKeys: [key.publicKey])
        let accepted = [first, checkpoint].map { verifier.consume($0) }
        #expect(accepted == [true, true])
        #expect(verifier.report.checkpoints == 1)
        #expect(verifier.report.lastSignedHead == first.head)
    }

    @Test func validDraftKeepsItsFields() throws {
        let draft = try AuditEventDraft(
            actor: "u.khan", role: "researcher", project: "P2026-003", action: "release.withdrawn", target: "R-7",
            parameters: ["la_code": "E06000001", "age_band": "65-74 years"], outcome: .denied, reason: "project_suspended")
        #expect(draft.action.rawValue == "release.withdrawn")
        #expect(draft.parameters["age_band"] == "65-74 years")
        #expect(draft.cells == .none)
        #expect(AuditCellCounts(released: 5, suppressed: ["threshold": 3, "secondary": 2]).suppressedTotal == 5)
    }

    enum BadDraft: String, CaseIterable {
        case actorWithSpace, emptyActor, longRole, reasonAsMessage, controlInParameter, longParameter, parameterNameWithSpace
        case negativeCells, negativeSuppressed, outputOnDenial, checkpointAction, upperCaseAction, tooManyParameters

        func make() throws(AuditError) -> AuditEventDraft {
            switch self {
            case .actorWithSpace: try AuditEventDraft(actor: "Bearer abc", role: nil, action: .authFailed, outcome: .denied)
            case .emptyActor: try AuditEventDraft(actor: "", role: nil, action: .authFailed, outcome: .denied)
            case .longRole: try AuditEventDraft(actor: "u", role: String(repeating: "r", count: 129), action: .queryRun, outcome: .allowed)
            case .reasonAsMessage:
                try AuditEventDraft(actor: "u", role: nil, action: .queryRun, outcome: .error, reason: "relation \"x\" does not exist")
            case .controlInParameter: try AuditEventDraft(actor: "u", role: nil, action: .queryRun, parameters: ["p": "a\nb"], outcome: .allowed)
            case .longParameter:
                try AuditEventDraft(
                    actor: "u", role: nil, action: .queryRun, parameters: ["p": String(repeating: "x", count: 257)], outcome: .allowed)
            case .parameterNameWithSpace: try AuditEventDraft(actor: "u", role: nil, action: .queryRun, parameters: ["p q": "1"], outcome: .allowed)
            case .negativeCells:
                try AuditEventDraft(actor: "u", role: nil, action: .queryRun, outcome: .allowed, cells: AuditCellCounts(released: -1))
            case .negativeSuppressed:
                try AuditEventDraft(
                    actor: "u", role: nil, action: .queryRun, outcome: .allowed, cells: AuditCellCounts(released: 1, suppressed: ["threshold": -1]))
            case .outputOnDenial:
                try AuditEventDraft(actor: "u", role: nil, action: .queryRun, outcome: .denied, outputDigest: .sha256(of: [1]))
            case .checkpointAction: try AuditEventDraft(actor: "u", role: nil, action: .auditCheckpoint, outcome: .allowed)
            case .upperCaseAction: try AuditEventDraft(actor: "u", role: nil, action: "Query.Run", outcome: .allowed)
            case .tooManyParameters:
                try AuditEventDraft(
                    actor: "u", role: nil, action: .queryRun, parameters: Dictionary(uniqueKeysWithValues: (0..<65).map { ("p\($0)", "v") }),
                    outcome: .allowed)
            }
        }
    }

    @Test(arguments: BadDraft.allCases)
    func draftRejectsWhatDoesNotBelongInTheTrail(bad: BadDraft) {
        let error = #expect(throws: AuditError.self) { try bad.make() }
        #expect(error?.code == .invalidField)
    }
}
