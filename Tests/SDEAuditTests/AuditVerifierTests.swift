import SDEAudit
import Testing

@Suite struct AuditVerifierTests {
    /// 40 events; every sixth (6, 12, ..., 36) is a checkpoint of the five before it.
    let fixture: ChainFixture
    let lines: [String]

    init() throws {
        fixture = try ChainFixture(count: 40)
        lines = fixture.lines
    }

    @Test func intactChainVerifiesFromEitherStore() {
        for report in [fixture.verify(lines), fixture.verify(events: fixture.events)] {
            #expect(report.isIntact)
            #expect(report.events == 40)
            #expect(report.checkpoints == 6)
            #expect(report.head == fixture.events[39].head)
            #expect(report.lastSignedHead == fixture.events[34].head)
            #expect(report.eventsAfterLastCheckpoint == 4)
            #expect(report.description.hasPrefix("intact: 40 events, 6 checkpoints"))
        }
    }

    @Test(arguments: [
        (9, #""actor":"u.khan""#, #""actor":"u.smith""#),
        (9, #""outcome":"allowed""#, #""outcome":"denied""#),
        (9, #""cells_released":"#, #""cells_released":1"#),
        (9, #""threshold":"#, #""threshold":1"#),
        (9, "T09:01:30", "T09:01:31"),
        (5, #""head_sequence":5"#, #""head_sequence":4"#),
    ])
    func editedFieldIsAHashMismatch(index: Int, original: String, replacement: String) {
        var damaged = lines
        damaged[index] = damaged[index].replacing(original, with: replacement, maxReplacements: 1)
        #expect(damaged[index] != lines[index])
        let report = fixture.verify(damaged)
        #expect(report.failure?.kind == .hashMismatch)
        #expect(report.failure?.lineNumber == index + 1)
        #expect(report.failure?.sequence == Int64(index + 1))
        #expect(report.events == index)
        #expect(report.head == fixture.events[index - 1].head)
    }

    @Test func editedDatabaseRowIsAHashMismatch() {
        var rows = fixture.events
        rows[9] = rows[9].forged(actor: "u.smith", keepHash: true)
        let failure = fixture.verify(events: rows).failure
        #expect(failure?.kind == .hashMismatch)
        #expect(failure?.sequence == 10)
        #expect(failure?.lineNumber == nil)
        #expect(failure?.position == 10)
    }

    @Test func deletedLineIsASequenceGap() {
        var damaged = lines
        damaged.remove(at: 14)
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .sequenceGap)
        #expect(failure?.lineNumber == 15)
        #expect(failure?.sequence == 16)
        #expect(failure?.description == "line 15, sequence 16: sequence_gap: expected sequence 15, found 16: events are missing or out of order")
    }

    @Test func swappedLinesAreCaughtAtTheFirstOfThem() {
        var damaged = lines
        damaged.swapAt(20, 21)
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .sequenceGap)
        #expect(failure?.lineNumber == 21)
        #expect(failure?.sequence == 22)
    }

    @Test func replayedLineIsASequenceDuplicate() {
        var damaged = lines
        damaged.insert(lines[9], at: 10)
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .sequenceDuplicate)
        #expect(failure?.lineNumber == 11)
        #expect(failure?.sequence == 10)
    }

    @Test func forgedLineWithoutItsHashIsAHashMismatch() {
        var damaged = lines
        damaged.insert(ChainFixture.line(fixture.events[4].forged(sequence: 6, actor: "u.nobody", keepHash: true)), at: 5)
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .hashMismatch)
        #expect(failure?.lineNumber == 6)
    }

    @Test func forgedLineWithAValidLinkPushesTheRealEventToADuplicate() throws {
        let forged = AuditChain(head: fixture.events[19].head)
            .seal(try AuditEventDraft(actor: "u.nobody", role: "researcher", action: .queryRun, outcome: .allowed), at: ChainFixture.time(20))
        var damaged = lines
        damaged.insert(ChainFixture.line(forged), at: 20)
        let report = fixture.verify(damaged)
        #expect(report.failure?.kind == .sequenceDuplicate)
        #expect(report.failure?.lineNumber == 22)
        #expect(report.failure?.sequence == 21)
    }

    @Test func deletedAndRenumberedLineIsAPrevHashMismatch() {
        var damaged = Array(lines[..<13])
        damaged.append(ChainFixture.line(fixture.events[14].forged(sequence: 14)))
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .prevHashMismatch)
        #expect(failure?.lineNumber == 14)
        #expect(failure?.sequence == 14)
    }

    @Test func truncationIsCaughtOnlyAgainstAHeadRecordedElsewhere() {
        let truncated = Array(lines[..<30])
        #expect(fixture.verify(truncated).isIntact)
        let report = fixture.verify(truncated, expectedHeads: [fixture.events[39].head])
        #expect(report.failure?.kind == .truncated)
        #expect(report.failure?.position == nil)
        #expect(report.events == 30)
        #expect(report.failure?.message.contains("ends at sequence 30") == true)
        #expect(fixture.verify(lines, expectedHeads: [fixture.events[39].head, fixture.events[10].head]).isIntact)
    }

    @Test func headRecordedElsewhereMustMatch() {
        let recorded = AuditHead(sequence: 10, hash: fixture.events[10].hash)
        let failure = fixture.verify(lines, expectedHeads: [recorded]).failure
        #expect(failure?.kind == .expectedHeadMismatch)
        #expect(failure?.sequence == 10)
    }

    /// Rewrites every event from sequence 20 on with a new actor and recomputed hashes; `checkpoint` decides what
    /// the forger puts into the checkpoint events (given the original and the rewritten events before it).
    private func rewriteTail(checkpoint: (AuditEvent, [AuditEvent]) throws -> AuditCheckpoint) rethrows -> [String] {
        var rewritten = Array(fixture.events[..<19])
        for event in fixture.events[19...] {
            let head = rewritten.last!.head
            if event.checkpoint != nil {
                rewritten.append(event.forged(checkpoint: try checkpoint(event, rewritten), prevHash: head.hash))
            } else {
                rewritten.append(event.forged(actor: "u.nobody", prevHash: head.hash))
            }
        }
        return rewritten.map(ChainFixture.line)
    }

    @Test func rewrittenTailKeepingOldCheckpointsIsAHeadMismatch() {
        let report = fixture.verify(rewriteTail { original, _ in original.checkpoint! })
        #expect(report.failure?.kind == .checkpointHeadMismatch)
        #expect(report.failure?.sequence == 24)
        #expect(report.events == 23)
    }

    @Test func rewrittenTailWithCheckpointHeadsUpdatedDoesNotHaveTheSignedRoot() {
        let damaged = rewriteTail { original, before in
            let stored = original.checkpoint!
            return AuditCheckpoint(head: before.last!.head, keyID: stored.keyID, note: stored.note!, treeEdge: stored.treeEdge)
        }
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .checkpointRootMismatch)
        #expect(failure?.sequence == 24)
    }

    @Test func rewrittenTailResignedByAnotherKeyIsCaught() throws {
        let forger = AuditSigningKey()
        var chain = try AuditChain(replaying: fixture.events[..<19])
        var forged = Array(fixture.events[..<19])
        for (i, event) in fixture.events.enumerated().dropFirst(19) {
            forged.append(
                event.checkpoint == nil
                    ? chain.append(try ChainFixture.draft(i + 1000), at: event.time) : try chain.appendCheckpoint(at: event.time, signedBy: forger))
        }
        let report = fixture.verify(forged.map(ChainFixture.line))
        #expect(report.failure?.kind == .unknownCheckpointKey)
        #expect(report.failure?.sequence == 24)
        // Claiming the broker's key id does not help the forger: the note is not signed by the broker's key.
        let claimed = try rewriteTail { original, before in
            let sealed = try AuditChain(replaying: before).sealCheckpoint(at: original.time, signedBy: forger).checkpoint!
            return AuditCheckpoint(head: sealed.head, keyID: fixture.key.publicKey.keyID, note: sealed.note!, treeEdge: sealed.treeEdge)
        }
        #expect(fixture.verify(claimed).failure?.kind == .badCheckpointSignature)
    }

    @Test func rewrittenTailWithoutCheckpointsIsCaughtByTheRecordedGap() {
        var rewritten = Array(fixture.events[..<19])
        for event in fixture.events[19...] where event.checkpoint == nil {
            let head = rewritten.last!.head
            rewritten.append(event.forged(sequence: head.sequence + 1, actor: "u.nobody", prevHash: head.hash))
        }
        let damaged = rewritten.map(ChainFixture.line)
        // Self-consistent as a hash chain, but the checkpoint at 18 recorded at most 60 seconds to the next one, and
        // the events from 19 (09:03:00) on go past it at 25 (09:04:10).
        let missing = fixture.verify(damaged).failure
        #expect(missing?.kind == .checkpointMissing)
        #expect(missing?.sequence == 25)
        #expect(missing?.message.contains("60 seconds") == true)
        let counted = fixture.verify(damaged, maximumCheckpointInterval: 5).failure
        #expect(counted?.kind == .checkpointMissing)
        #expect(counted?.sequence == 24)
        #expect(fixture.verify(lines, maximumCheckpointInterval: 5).isIntact)
    }

    /// The tail after the last checkpoint is the one place a rewrite without the key fits within the gap policy
    /// (here: 4 events, 30 seconds): only a head recorded elsewhere, or the other store, catches it.
    @Test func rewrittenTailAfterTheLastCheckpointIsCaughtOnlyByARecordedHead() {
        var rewritten = Array(fixture.events[..<36])
        for event in fixture.events[36...] { rewritten.append(event.forged(actor: "u.nobody", prevHash: rewritten.last!.hash)) }
        let damaged = rewritten.map(ChainFixture.line)
        #expect(fixture.verify(damaged).isIntact)
        let recorded = fixture.verify(damaged, expectedHeads: [fixture.events[38].head]).failure
        #expect(recorded?.kind == .expectedHeadMismatch)
        #expect(recorded?.sequence == 39)
    }

    @Test func checkpointByAnUntrustedKeyIsCaught() {
        let failure = fixture.verify(lines, keys: [AuditSigningKey().publicKey]).failure
        #expect(failure?.kind == .unknownCheckpointKey)
        #expect(failure?.sequence == 6)
    }

    @Test func alteredSignatureIsCaught() throws {
        let original = fixture.events[11].checkpoint!
        // One character of the signature line's base64, in the middle of the signature, changed.
        var note = Array(original.note!.utf8)
        let i = note.count - 30
        note[i] = note[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        var damaged = lines
        damaged[11] = ChainFixture.line(
            fixture.events[11].forged(
                checkpoint: AuditCheckpoint(
                    head: original.head, keyID: original.keyID, note: String(decoding: note, as: UTF8.self), treeEdge: original.treeEdge)))
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .badCheckpointSignature)
        #expect(failure?.sequence == 12)
    }

    @Test func checkpointTimeIsSigned() {
        var damaged = lines
        damaged[11] = ChainFixture.line(fixture.events[11].forged(time: ChainFixture.time(500)))
        let failure = fixture.verify(damaged).failure
        #expect(failure?.kind == .badCheckpointSignature)
        #expect(failure?.sequence == 12)
    }

    @Test func checkpointFieldsAndActionMustGoTogether() {
        var withoutFields = lines
        withoutFields[2] = ChainFixture.line(fixture.events[2].forged(action: .auditCheckpoint))
        #expect(fixture.verify(withoutFields).failure?.kind == .invalidCheckpoint)
        var onOtherAction = lines
        onOtherAction[5] = ChainFixture.line(fixture.events[5].forged(action: .queryRun))
        let failure = fixture.verify(onOtherAction).failure
        #expect(failure?.kind == .invalidCheckpoint)
        #expect(failure?.sequence == 6)
    }

    @Test(arguments: ["not json", "", #"{"action":"query.run"}"#])
    func malformedLineIsReportedWithItsLineNumber(garbage: String) {
        var damaged = lines
        damaged[6] = garbage
        let report = fixture.verify(damaged)
        #expect(report.failure?.kind == .malformedLine)
        #expect(report.failure?.lineNumber == 7)
        #expect(report.failure?.sequence == nil)
        #expect(report.events == 6)
        #expect(report.failure?.description.hasPrefix("line 7: malformed_line: byte ") == true)
    }

    @Test func reformattedLineIsMalformed() {
        var damaged = lines
        damaged[3] = damaged[3].replacing(#""outcome":"#, with: #""outcome": "#)
        #expect(fixture.verify(damaged).failure?.kind == .malformedLine)
    }

    @Test func wholeFileNeedsATerminatedLastLine() {
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey])
        let accepted = verifier.consume(jsonl: text)
        #expect(accepted)
        #expect(verifier.report.events == 40)

        var torn = AuditVerifier(trustedKeys: [fixture.key.publicKey])
        let tornAccepted = torn.consume(jsonl: Array(text.dropLast(30)))
        #expect(!tornAccepted)
        #expect(torn.report.failure?.kind == .malformedLine)
        #expect(torn.report.failure?.lineNumber == 40)
        #expect(torn.report.events == 39)
    }

    @Test func tailCanBeVerifiedFromAKnownHead() {
        var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey], startingAfter: fixture.events[19].head)
        for (i, line) in lines.enumerated().dropFirst(20) { verifier.consume(line: Array(line.utf8), lineNumber: i + 1) }
        #expect(verifier.report.isIntact)
        #expect(verifier.report.events == 20)

        var wrongStart = AuditVerifier(trustedKeys: [fixture.key.publicKey], startingAfter: AuditHead(sequence: 20, hash: fixture.events[18].hash))
        wrongStart.consume(line: Array(lines[20].utf8), lineNumber: 21)
        #expect(wrongStart.report.failure?.kind == .prevHashMismatch)
    }

    @Test func verificationStopsAtTheFirstBrokenEvent() {
        var damaged = lines
        damaged[30] = damaged[30].replacing("u.", with: "x.", maxReplacements: 1)
        damaged[10] = damaged[10].replacing("u.", with: "x.", maxReplacements: 1)
        var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey])
        var accepted = 0
        for (i, line) in damaged.enumerated() where verifier.consume(line: Array(line.utf8), lineNumber: i + 1) { accepted += 1 }
        #expect(accepted == 10)
        #expect(verifier.report.failure?.sequence == 11)
        #expect(!verifier.isIntact)
    }
}
