import Testing

@testable import SDEAudit

/// Trails written before signed tree heads carry format-1 checkpoints (an Ed25519 signature of the head and time);
/// they still decode, verify and count as checkpoints, and the chain moves on to signed tree heads at its next write.
@Suite struct AuditFormatOneTests {
    /// Ten events with a format-1 checkpoint after the fifth, signed as the broker used to.
    static func legacyChain(key: AuditSigningKey) throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        var head = AuditHead.genesis
        for i in 0..<10 {
            let time = ChainFixture.time(i)
            let event: AuditEvent
            if i == 5 {
                let signature = try key.signature(for: AuditCheckpoint.signedMessage(head: head, time: time))
                let checkpoint = AuditCheckpoint(head: head, keyID: key.publicKey.keyID, signature: signature)
                event = AuditEvent(
                    sequence: head.sequence + 1, time: time, actor: AuditEventDraft.brokerActor, role: nil, project: nil, action: .auditCheckpoint,
                    target: nil, parameters: [:], policyDigest: nil, outcome: .allowed, reason: nil, cells: .none, outputDigest: nil,
                    checkpoint: checkpoint, prevHash: head.hash, hash: .zero
                ).forged()
            } else {
                event = AuditChain(head: head).seal(try ChainFixture.draft(i), at: time)
            }
            events.append(event)
            head = event.head
        }
        return events
    }

    @Test func formatOneCheckpointsStillVerify() throws {
        let key = AuditSigningKey()
        let events = try Self.legacyChain(key: key)
        let lines = events.map(ChainFixture.line)
        #expect(lines[5].contains(#""key_id":"\#(key.publicKey.keyID)","signature":""#))
        #expect(try lines.map { try AuditJSONL.decode($0) } == events)
        var verifier = AuditVerifier(trustedKeys: [key.publicKey])
        for (i, line) in lines.enumerated() { verifier.consume(line: Array(line.utf8), lineNumber: i + 1) }
        #expect(verifier.report.isIntact)
        #expect(verifier.report.checkpoints == 1)
        // Checkpoints were not timed then: the 40 seconds before the first one pass a 30-second policy, and are let be
        // because that checkpoint is of format 1 (which only the key could have signed).
        var strict = AuditVerifier(trustedKeys: [key.publicKey], policy: try AuditCheckpointPolicy(maxEvents: 1000, maxSeconds: 30))
        for event in events { strict.consume(event) }
        #expect(strict.report.isIntact)
        var forged = events
        forged[5] = events[5].forged(time: ChainFixture.time(50))
        var broken = AuditVerifier(trustedKeys: [key.publicKey])
        for event in forged { broken.consume(event) }
        #expect(broken.report.failure?.kind == .badCheckpointSignature)

        // The chain over such a trail writes a signed tree head before its next event.
        var chain = try AuditChain(replaying: events)
        #expect(chain.isCheckpointDue(at: ChainFixture.time(10), policy: .default))
        let treeHead = try chain.appendCheckpoint(at: ChainFixture.time(10), signedBy: key)
        var after = AuditVerifier(trustedKeys: [key.publicKey])
        for event in events + [treeHead] { after.consume(event) }
        #expect(after.report.isIntact)
        #expect(after.report.checkpoints == 2)
    }
}
