import SDEAudit
import Testing

@Suite struct AuditNoteTests {
    /// The example of the C2SP signed-note specification: a verifier key and the note it verifies.
    static let exampleVerifierKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    static let exampleNote = """
        This is an example message.

        — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=

        """

    @Test func theSpecificationsExampleVerifies() throws {
        let verifier = try AuditNoteVerifier(parsing: Self.exampleVerifierKey)
        #expect(verifier.name == "example.com/foo")
        #expect(verifier.description == Self.exampleVerifierKey)
        let note = try AuditSignedNote(parsing: Self.exampleNote)
        #expect(try note.verifiedText(by: verifier) == "This is an example message.\n")
        #expect(note.description == Self.exampleNote)
        let altered = try AuditSignedNote(parsing: Self.exampleNote.replacing("example message", with: "exemplary message"))
        #expect(throws: AuditError.self) { try altered.verifiedText(by: verifier) }
    }

    @Test func aNoteVerifiesOnlyWithTheKeyThatSignedIt() throws {
        let key = AuditSigningKey(), other = AuditSigningKey()
        let note = try AuditSignedNote.signing("line one\n\nline three\n", with: key, name: "sde.example/k")
        let reread = try AuditSignedNote(parsing: note.description)
        #expect(reread == note)
        #expect(try reread.verifiedText(by: AuditNoteVerifier(name: "sde.example/k", publicKey: key.publicKey)) == "line one\n\nline three\n")
        let error = #expect(throws: AuditError.self) {
            try reread.verifiedText(by: AuditNoteVerifier(name: "sde.example/k", publicKey: other.publicKey))
        }
        #expect(error?.code == .invalidCheckpoint)
        #expect(throws: AuditError.self) { try reread.verifiedText(by: AuditNoteVerifier(name: "sde.example/other", publicKey: key.publicKey)) }
        // A cosignature by someone else (a witness) is carried and ignored.
        let cosigned = note.description + "— witness.example/ig " + String(repeating: "A", count: 88) + "AAA=\n"
        let withWitness = try AuditSignedNote(parsing: cosigned)
        #expect(withWitness.signatures.count == 2)
        #expect(try withWitness.verifiedText(by: AuditNoteVerifier(name: "sde.example/k", publicKey: key.publicKey)) == note.text)
    }

    @Test(arguments: [
        "", "text\n", "text\n\n", "text\n\n— k\n", "text\n\n— k AAAA\n", "text\n\n— k QUJDREVGR0g=\n\n",
        "text\n\n— k QUJDREVGR0g\n", "text\n\n- k QUJDREVGR0g=\n", "te\u{7}xt\n\n— k QUJDREVGR0g=\n", "text\n\n— k+1 QUJDREVGR0g=\n",
        "text\n\n— k QUJDREVGR0h=\n", "text\n\n— k QUJDREVGR0g=",
    ])
    func malformedNotesAreRefused(text: String) {
        let error = #expect(throws: AuditError.self) { try AuditSignedNote(parsing: text) }
        #expect(error?.code == .invalidCheckpoint)
    }

    @Test func aNoteHasAtMostSixteenSignatures() throws {
        let line = "— k QUJDREVGR0g=\n"
        #expect(try AuditSignedNote(parsing: "text\n\n" + String(repeating: line, count: 16)).signatures.count == 16)
        #expect(throws: AuditError.self) { try AuditSignedNote(parsing: "text\n\n" + String(repeating: line, count: 17)) }
    }

    @Test func theBrokersKeyIsAVerifierKeyNamedAfterIt() throws {
        let key = AuditSigningKey().publicKey
        let vkey = key.noteVerifier.description
        #expect(vkey.hasPrefix("sde-broker/audit/\(key.keyID)+"))
        #expect(try AuditPublicKey(verifierKey: vkey) == key)
        // The key's base64 may contain '+', the separator of the verifier key's parts.
        let keys = (0..<64).map { _ in AuditSigningKey().publicKey }
        #expect(keys.contains { $0.noteVerifier.description.split(separator: "+").count > 3 })
        for other in keys { #expect(try AuditPublicKey(verifierKey: other.noteVerifier.description) == other) }
        #expect(try AuditPublicKey(pemOrVerifierKey: vkey + "\n") == key)
        #expect(try AuditPublicKey(pemOrVerifierKey: key.pem) == key)
        // Someone else's verifier key, or one whose ID does not match, is not the broker's.
        #expect(throws: AuditError.self) { try AuditPublicKey(verifierKey: Self.exampleVerifierKey) }
        #expect(throws: AuditError.self) { try AuditNoteVerifier(parsing: Self.exampleVerifierKey.replacing("530d903a", with: "530d903b")) }
    }

    /// A signed tree head from a chain: exactly the five lines of the format, verified by the broker's key only.
    @Test func checkpointsAreTlogCheckpointNotes() throws {
        let fixture = try ChainFixture(count: 12)
        let event = fixture.events[11]
        let note = try #require(event.checkpoint?.note)
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 8)
        #expect(lines[0] == "sde-broker/audit/\(fixture.key.publicKey.keyID)")
        #expect(lines[1] == "11")
        #expect(lines[3] == "time \(event.time)")
        #expect(lines[4] == "max-gap 1000 events 60 seconds")
        #expect(lines[5] == "" && lines[7] == "")
        #expect(lines[6].hasPrefix("— sde-broker/audit/\(fixture.key.publicKey.keyID) "))
        let head = try AuditTreeHead(note: note, verifiedBy: fixture.key.publicKey)
        #expect(head.size == 11 && head.time == event.time && head.policy == .default)
        #expect(head.root == AuditMerkle.root(of: fixture.lines[..<11].map { AuditMerkle.leafHash(Array($0.utf8)) }[...]))
        #expect(head.description == note)
        #expect(throws: AuditError.self) { try AuditTreeHead(note: note, verifiedBy: AuditSigningKey().publicKey) }
    }

    @Test(arguments: [
        ("\n11\n", "\n011\n"), ("time 2026", "time: 2026"), ("max-gap 1000 events", "max-gap 10001 events"), ("60 seconds", "60 s"),
    ])
    func aCheckpointWhoseLinesAreNotOursIsRefusedEvenWhenSigned(original: String, replacement: String) throws {
        let key = AuditSigningKey()
        var chain = try AuditChain(replaying: ChainFixture(count: 11, key: key).events)
        let note = try #require(try chain.appendCheckpoint(at: ChainFixture.time(11), signedBy: key).checkpoint?.note)
        let text = try AuditSignedNote(parsing: note).text.replacing(original, with: replacement)
        #expect(text != (try AuditSignedNote(parsing: note).text))
        let resigned = try AuditSignedNote.signing(text, with: key, name: key.publicKey.noteName)
        let error = #expect(throws: AuditError.self) { try AuditTreeHead(note: resigned.description, verifiedBy: key.publicKey) }
        #expect(error?.code == .invalidCheckpoint)
    }

    @Test func gapPoliciesStayWithinTheCeiling() throws {
        #expect(try AuditCheckpointPolicy(maxEvents: 10_000, maxSeconds: 3600) == .ceiling)
        #expect(throws: AuditError.self) { try AuditCheckpointPolicy(maxEvents: 10_001, maxSeconds: 60) }
        #expect(throws: AuditError.self) { try AuditCheckpointPolicy(maxEvents: 100, maxSeconds: 0) }
        #expect(AuditCheckpointPolicy.default.description == "max-gap 1000 events 60 seconds")
    }
}
