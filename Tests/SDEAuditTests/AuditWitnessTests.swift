import SDEAudit
import Testing

/// The attacks of issue 13 on the pure verifier, by an insider who holds the signing key (and so re-signs every
/// checkpoint) or who swaps it: only a checkpoint kept outside the trail, or the key pinned outside it, catches them.
@Suite struct AuditWitnessTests {
    /// 40 events with a checkpoint after every five (sequences 6, 12, ..., 36).
    let fixture: ChainFixture
    /// The checkpoint at sequence 18 (a tree of 17 events), as the IG team's witness keeps it.
    let held: AuditTreeHead

    init() throws {
        fixture = try ChainFixture(count: 40)
        held = try AuditTreeHead(note: fixture.events[17].checkpoint!.note!, verifiedBy: fixture.key.publicKey)
    }

    /// `events` chained again from the first, every checkpoint signed anew by `key` (what a key holder can do).
    static func resigned(_ events: [AuditEvent], by key: AuditSigningKey) throws -> [AuditEvent] {
        var chain = AuditChain()
        return try events.map { event in
            if event.checkpoint != nil { return try chain.appendCheckpoint(at: event.time, signedBy: key) }
            let next = event.forged(sequence: chain.head.sequence + 1, prevHash: chain.head.hash)
            try chain.advance(to: next)
            return next
        }
    }

    enum Rewrite: String, CaseIterable, Sendable { case edit, insert, delete }

    @Test(arguments: Rewrite.allCases)
    func aTrailRewrittenAndResignedWithTheKeyIsCaughtAgainstAWitness(_ rewrite: Rewrite) throws {
        var events = fixture.events
        switch rewrite {
        case .edit: events[4] = events[4].forged(actor: "u.nobody")
        case .insert: events.insert(events[4].forged(actor: "u.nobody"), at: 4)
        case .delete: events.remove(at: 4)
        }
        let forged = try Self.resigned(events, by: fixture.key).map(ChainFixture.line)
        // With the key, the rewrite is a valid trail of its own: the limit of anything the trail holds alone.
        #expect(fixture.verify(forged).isIntact)
        var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey], witnessed: [held])
        for (i, line) in forged.enumerated() where !verifier.consume(line: Array(line.utf8), lineNumber: i + 1) { break }
        #expect(verifier.report.failure?.kind == .witnessedRootMismatch)
        #expect(verifier.report.failure?.sequence == 17)
        #expect(verifier.report.failure?.message.contains("first 17 events") == true)
    }

    @Test func theUntouchedTrailExtendsWhatTheWitnessHolds() {
        var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey], witnessed: [held])
        for (i, line) in fixture.lines.enumerated() { verifier.consume(line: Array(line.utf8), lineNumber: i + 1) }
        #expect(verifier.report.isIntact)
        #expect(verifier.report.witnessed == 1)
        #expect(verifier.report.description.hasSuffix("extends 1 witnessed checkpoint"))
        #expect(verifier.report.root == AuditMerkle.root(of: fixture.lines.map { AuditMerkle.leafHash(Array($0.utf8)) }[...]))
    }

    /// Both stores cut back alike, to before the witnessed checkpoint: the trail alone looks intact.
    @Test(arguments: [10, 16, 17])
    func aCutTailIsCaughtAgainstAWitness(keeping count: Int) {
        let cut = Array(fixture.lines.prefix(count))
        #expect(fixture.verify(cut).isIntact)
        var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey], witnessed: [held])
        for (i, line) in cut.enumerated() { verifier.consume(line: Array(line.utf8), lineNumber: i + 1) }
        if count < 17 {
            #expect(verifier.report.failure?.kind == .truncated)
            #expect(verifier.report.failure?.message.contains("a witness holds a checkpoint of 17 events") == true)
        } else {
            #expect(verifier.report.isIntact, "the witnessed size itself is still there")
        }
    }

    @Test func theWitnessAcceptsOnlyACheckpointThatExtendsTheOneItHolds() throws {
        let hashes = fixture.lines.map { AuditMerkle.leafHash(Array($0.utf8)) }
        func head(_ index: Int, of events: [AuditEvent]) throws -> AuditTreeHead {
            try AuditTreeHead(note: events[index].checkpoint!.note!, verifiedBy: fixture.key.publicKey)
        }
        let latest = try head(35, of: fixture.events)
        try latest.checkExtends(held, proof: try AuditMerkle.consistencyProof(from: 17, leafHashes: hashes[..<35]))
        try held.checkExtends(held, proof: [])

        // A rewrite re-signed with the key: its checkpoint of 35 events does not extend the held one of 17, whatever
        // proof the broker offers (here: the honest proof of the rewritten trail).
        var events = fixture.events
        events[4] = events[4].forged(actor: "u.nobody")
        let forged = try Self.resigned(events, by: fixture.key)
        let forgedHashes = forged.map { AuditMerkle.leafHash(AuditJSONL.encode($0)) }
        let error = #expect(throws: AuditError.self) {
            try head(35, of: forged).checkExtends(self.held, proof: try AuditMerkle.consistencyProof(from: 17, leafHashes: forgedHashes[..<35]))
        }
        #expect(error?.code == .inconsistentTree)
        // A cut trail's latest checkpoint is smaller than the held one.
        let smaller = #expect(throws: AuditError.self) { try head(11, of: fixture.events).checkExtends(self.held, proof: []) }
        #expect(smaller?.message.contains("removed from the end") == true)
    }

    /// A key pair of the insider's, with every checkpoint re-signed by it: judged by the pinned key, the first
    /// checkpoint already fails, and the witness's checkpoint does not verify with the new key either.
    @Test func aSwappedKeyPairIsCaughtAgainstThePinnedKey() throws {
        let insider = AuditSigningKey()
        let forged = try Self.resigned(fixture.events, by: insider).map(ChainFixture.line)
        #expect(fixture.verify(forged, keys: [insider.publicKey]).isIntact)
        let failure = fixture.verify(forged).failure
        #expect(failure?.kind == .unknownCheckpointKey)
        #expect(failure?.sequence == 6)
        #expect(throws: AuditError.self) { try AuditTreeHead(note: held.description, verifiedBy: insider.publicKey) }
    }

    /// The trail ends with four events after its last checkpoint (sequence 37 at 09:06:00 on). While the broker runs
    /// they wait at most a minute for the next checkpoint; an hour later, their checkpoint must have been removed.
    @Test func aTailThatWaitedTooLongForItsCheckpointIsCaughtGivenTheTime() {
        func verify(at now: AuditTimestamp) -> AuditVerificationReport {
            var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey], now: now)
            for event in fixture.events { verifier.consume(event) }
            return verifier.report
        }
        let first = ChainFixture.time(36).millisecondsSinceEpoch
        #expect(verify(at: ChainFixture.time(39)).isIntact)
        #expect(verify(at: AuditTimestamp(millisecondsSinceEpoch: first + 120_000)!).isIntact, "a minute, plus the tolerance")
        let late = verify(at: AuditTimestamp(millisecondsSinceEpoch: first + 120_001)!).failure
        #expect(late?.kind == .checkpointMissing)
        #expect(late?.sequence == 37)
        #expect(late?.message.contains("stopped without closing") == true)
    }

    /// Every checkpoint deleted and the first event rewritten: no signed policy is left in the trail, so the verifier
    /// holds it to the policy it is configured with (the broker's, known out of band), not to the loose ceiling.
    @Test func aTrailWithEveryCheckpointRemovedIsHeldToTheConfiguredPolicy() throws {
        var rewritten: [AuditEvent] = []
        for event in fixture.events where event.checkpoint == nil {
            let head = rewritten.last?.head ?? .genesis
            rewritten.append(event.forged(sequence: head.sequence + 1, actor: head == .genesis ? "u.nobody" : nil, prevHash: head.hash))
        }
        func verify(policy: AuditCheckpointPolicy) -> AuditVerificationReport {
            var verifier = AuditVerifier(trustedKeys: [fixture.key.publicKey], policy: policy)
            for event in rewritten where !verifier.consume(event) { break }
            return verifier.report
        }
        #expect(verify(policy: .ceiling).isIntact, "34 events in six minutes are within an hour and 10,000 events")
        // The seventh remaining event (09:01:10) comes 70 seconds after the first.
        let failure = verify(policy: .default).failure
        #expect(failure?.kind == .checkpointMissing)
        #expect(failure?.sequence == 7)
        // The untouched trail keeps to the same policy: its checkpoints record it.
        var intact = AuditVerifier(trustedKeys: [fixture.key.publicKey], policy: .default)
        for event in fixture.events { intact.consume(event) }
        #expect(intact.report.isIntact)
        // Before its first checkpoint the trail is held to the configured policy too: 40 seconds pass a 30-second one.
        var strict = AuditVerifier(trustedKeys: [fixture.key.publicKey], policy: try AuditCheckpointPolicy(maxEvents: 1000, maxSeconds: 30))
        for event in fixture.events { strict.consume(event) }
        #expect(strict.report.failure?.kind == .checkpointMissing)
        #expect(strict.report.failure?.sequence == 5)
    }

    @Test func theChainSaysWhenTheGapPolicyCallsForACheckpoint() throws {
        let key = AuditSigningKey()
        let policy = try AuditCheckpointPolicy(maxEvents: 3, maxSeconds: 30)
        var chain = AuditChain()
        #expect(!chain.isCheckpointDue(at: ChainFixture.time(100), policy: policy), "nothing to cover")
        _ = chain.append(try ChainFixture.draft(0), at: ChainFixture.time(0))
        #expect(!chain.isCheckpointDue(at: ChainFixture.time(2), policy: policy))
        #expect(chain.isCheckpointDue(at: ChainFixture.time(3), policy: policy), "30 seconds after the first uncovered event")
        _ = chain.append(try ChainFixture.draft(1), at: ChainFixture.time(1))
        _ = chain.append(try ChainFixture.draft(2), at: ChainFixture.time(1))
        #expect(chain.isCheckpointDue(at: ChainFixture.time(1), policy: policy), "three events")
        _ = try chain.appendCheckpoint(at: ChainFixture.time(1), signedBy: key, policy: policy)
        #expect(chain.eventsSinceCheckpoint == 0 && chain.firstEventSinceCheckpoint == nil)
        #expect(!chain.isCheckpointDue(at: ChainFixture.time(50), policy: policy))
        #expect(chain.isCheckpointDue(at: ChainFixture.time(50), policy: .default), "a new policy is recorded before the gap it governs")

        // Resumed after its last checkpoint, without the events before it, the chain goes on with the same tree.
        let events = try ChainFixture(count: 23, key: key).events
        let resumed = try AuditChain(resumingAfter: events[17], eventsSince: events[18...], key: key.publicKey)
        let replayed = try AuditChain(replaying: events)
        #expect(resumed == replayed)
        #expect(resumed.eventsSinceCheckpoint == 5)
        #expect(throws: AuditError.self) { try AuditChain(resumingAfter: events[17], eventsSince: events[18...], key: AuditSigningKey().publicKey) }
        #expect(throws: AuditError.self) { try AuditChain(resumingAfter: events[16], eventsSince: events[17...], key: key.publicKey) }
        #expect(throws: AuditError.self) { try AuditChain(head: events[16].head).sealCheckpoint(at: ChainFixture.time(30), signedBy: key) }
    }
}
