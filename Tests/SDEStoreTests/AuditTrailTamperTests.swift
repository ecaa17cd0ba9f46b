import Foundation
import PostgresNIO
import SDEAudit
import SDEServer
import SDEStore
import Testing

/// An insider who can do anything to both stores (database superuser, write access to `AuditLogs/` and `.sde/`):
/// read the trail, rewrite it with every hash recomputed, and put it back in the database and the mirror.
struct Insider {
    let db: DatabaseSession
    let mirrorDirectory: String

    /// Every event, from the database.
    func events() async throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        try await AuditEvents.forEach(in: db) { events.append($0) }
        return events
    }

    /// Replaces both stores with `events`: the append-only triggers are dropped first (a superuser may).
    func replace(with events: [AuditEvent]) async throws {
        try await db.execute("ALTER TABLE broker.audit_event DISABLE TRIGGER USER")
        try await db.execute("DELETE FROM broker.audit_event")
        for event in events {
            let line = String(decoding: AuditJSONL.encode(event), as: UTF8.self)
            try await db.execute("INSERT INTO broker.audit_event (sequence, hash, line) VALUES (\(event.sequence), \(event.hash.hex), \(line))")
        }
        try await db.execute("ALTER TABLE broker.audit_event ENABLE TRIGGER USER")
        for file in try AuditMirror(directory: mirrorDirectory).files() { try FileManager.default.removeItem(atPath: file) }
        var files: [String: [UInt8]] = [:]
        for event in events { AuditJSONL.append(event, to: &files["\(mirrorDirectory)/audit-\(event.time.date).jsonl", default: []]) }
        for (path, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
    }

    /// `events` with the chain recomputed from `from` (0-based) on: sequence numbers renumbered, every `prev_hash` and
    /// `hash` recomputed, and the checkpoints from there on dropped, as someone without the signing key must.
    static func rechained(_ events: [AuditEvent], from: Int) -> [AuditEvent] {
        var out = Array(events[..<from])
        for event in events[from...] where event.checkpoint == nil {
            let head = out.last?.head ?? .genesis
            out.append(event.relinked(after: head))
        }
        return out
    }
}

extension AuditEvent {
    /// This event's fields at the next sequence after `head`, with `prev_hash` and `hash` recomputed; `actor` replaced
    /// when given.
    func relinked(after head: AuditHead, actor: String? = nil) -> AuditEvent {
        let unsealed = AuditEvent(
            sequence: head.sequence + 1, time: time, actor: actor ?? self.actor, role: role, project: project, action: action, target: target,
            parameters: parameters, policyDigest: policyDigest, outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest,
            checkpoint: checkpoint, prevHash: head.hash, hash: .zero)
        return AuditEvent(
            sequence: unsealed.sequence, time: time, actor: unsealed.actor, role: role, project: project, action: action, target: target,
            parameters: parameters, policyDigest: policyDigest, outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest,
            checkpoint: checkpoint, prevHash: head.hash, hash: unsealed.computedHash)
    }
}

extension AuditTrailTests {
    enum Rewrite: String, CaseIterable, Sendable {
        case edit, insert, delete
    }

    /// The attack of issue 13: change an event in both stores, recompute the chain after it and delete the checkpoints
    /// that no longer match. Without the signing key the forger cannot sign new checkpoints, so the gap the deleted ones
    /// leave gives the rewrite away: measured by the policy the last remaining checkpoint signed (event 9, after the
    /// checkpoint at 6), or, before the first one (event 3), by the policy the verifier is configured with.
    @Test(arguments: Rewrite.allCases, [2, 8])
    func aRewriteWithTheChainRecomputedAndLaterCheckpointsDroppedIsCaught(_ rewrite: Rewrite, at index: Int) async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config, checkpointInterval: 5)
            for n in 0..<16 { try await trail.record(try Self.draft(n)) }
            await trail.close()
            let insider = Insider(db: db, mirrorDirectory: fixture.mirrorDirectory)
            var events = try await insider.events()
            #expect(events[5].checkpoint?.isTreeHead == true)
            switch rewrite {
            case .edit: events[index] = events[index].relinked(after: events[index - 1].head, actor: "someone-else")
            case .insert: events.insert(events[index].relinked(after: events[index].head, actor: "someone-else"), at: index + 1)
            case .delete: events.remove(at: index)
            }
            try await insider.replace(with: Insider.rechained(events, from: index))
            let result = try await AuditVerification.run(
                db, mirror: fixture.mirror, trustedKeys: [fixture.key.publicKey], policy: try AuditCheckpointPolicy(maxEvents: 5, maxSeconds: 60),
                now: AuditTrail.now())
            #expect(result.disagreement == nil, "both stores were rewritten alike")
            #expect(!result.database.isIntact && !result.mirror.isIntact, "\(result.database)")
            #expect(result.database.failure?.kind == .checkpointMissing, "\(result.database)")
        }
    }

    /// A broker configured over a fresh state folder and mirror, with the audit public key given in configuration.
    static func configuration(_ config: DatabaseConfig, state: String, fixture: Fixture, pinning key: AuditPublicKey?) -> BrokerConfiguration {
        var configuration = BrokerConfiguration(database: config)
        configuration.stateDirectory = state
        configuration.auditDirectory = fixture.mirrorDirectory
        configuration.sqlDirectory = TestPostgres.sqlDirectory
        configuration.auditCheckpointEvents = 5
        configuration.auditPublicKey = key
        return configuration
    }

    /// A key pair swapped in the state folder, with every checkpoint re-signed by it: the trail no longer opens, and
    /// `audit verify` judges the trail by the key pinned at the first start (or configured), not by the public key lying
    /// beside the new private key; an insider who also rewrites the pin is caught against the configured key.
    @Test func aSwappedKeyPairWithResignedCheckpointsIsCaught() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("sde-state-\(UUID().uuidString)").path
        let fixture = Fixture(key: try AuditKeyFiles(directory: state).loadOrCreate())
        defer {
            fixture.remove()
            try? FileManager.default.removeItem(atPath: state)
        }
        try await TestPostgres.withDatabase { config, db in
            var configuration = Self.configuration(config, state: state, fixture: fixture, pinning: nil)
            let trail = try await configuration.openAuditTrail(logger: TestPostgres.logger)
            for n in 0..<6 { try await trail.record(try Self.draft(n)) }
            await trail.close()
            #expect(try await configuration.verifyAuditTrail(logger: TestPostgres.logger).isIntact)

            // The insider makes a key pair of their own, puts it in the state folder and re-signs the trail with it.
            let keys = AuditKeyFiles(directory: state)
            try FileManager.default.removeItem(atPath: keys.privateKeyPath)
            try FileManager.default.removeItem(atPath: keys.publicKeyPath)
            let forger = try keys.loadOrCreate()
            let refused = await #expect(throws: StoreError.self) { _ = try await configuration.openAuditTrail(logger: TestPostgres.logger) }
            #expect(refused?.message.contains("pinned at the first start") == true)
            let insider = Insider(db: db, mirrorDirectory: fixture.mirrorDirectory)
            var chain = AuditChain()
            var forged: [AuditEvent] = []
            for event in try await insider.events() {
                let next =
                    event.checkpoint == nil
                    ? event.relinked(after: chain.head)
                    : try chain.sealCheckpoint(at: event.time, signedBy: forger, policy: try configuration.auditCheckpointPolicy())
                try chain.advance(to: next)
                forged.append(next)
            }
            try await insider.replace(with: forged)
            #expect(try await AuditVerification.run(db, mirror: fixture.mirror, trustedKeys: [forger.publicKey]).isIntact, "valid under the new key")
            let result = try await configuration.verifyAuditTrail(logger: TestPostgres.logger)
            #expect(!result.isIntact)
            #expect(result.database.failure?.kind == .unknownCheckpointKey, "\(result.database)")

            // Rewriting the pin as well (a superuser can) leaves the key given in configuration, outside both.
            try await db.execute("ALTER TABLE broker.audit_key DISABLE TRIGGER USER")
            try await db.execute("DELETE FROM broker.audit_key")
            try await db.execute("ALTER TABLE broker.audit_key ENABLE TRIGGER USER")
            _ = try await configuration.openAuditTrail(logger: TestPostgres.logger).close()
            #expect(try await configuration.verifyAuditTrail(logger: TestPostgres.logger).isIntact, "the database alone now vouches for the forger")
            configuration.auditPublicKey = fixture.key.publicKey
            let judged = try await configuration.verifyAuditTrail(logger: TestPostgres.logger)
            #expect(!judged.isIntact)
            #expect(judged.problems.first?.contains("the pin was changed") == true)
            #expect(judged.database.failure?.kind == .unknownCheckpointKey)
        }
    }

    /// The IG team's witness keeps the trail's latest checkpoint. When the insider cuts the tail of both stores back
    /// (to a point where the trail still looks closed and intact on its own), or rewrites it and re-signs it with the
    /// broker's own key, `audit verify --against` the witness's checkpoint fails, and the witness refuses the trail's
    /// new checkpoint and keeps its own.
    @Test(arguments: [false, true])
    func aWitnessCatchesACutTailOrARewriteOfBothStores(resigning: Bool) async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("sde-state-\(UUID().uuidString)").path
        let witness = FileManager.default.temporaryDirectory.appendingPathComponent("sde-witness-\(UUID().uuidString)").path
        let key = try AuditKeyFiles(directory: state).loadOrCreate()
        let fixture = Fixture(key: key)
        defer {
            fixture.remove()
            try? FileManager.default.removeItem(atPath: state)
            try? FileManager.default.removeItem(atPath: witness)
        }
        try await TestPostgres.withDatabase { config, db in
            let configuration = Self.configuration(config, state: state, fixture: fixture, pinning: key.publicKey)
            var trail = try await configuration.openAuditTrail(logger: TestPostgres.logger)
            for n in 0..<4 { try await trail.record(try Self.draft(n)) }
            await trail.close()  // 4 events and a checkpoint: 5
            let first = try await configuration.witnessAuditTrail(directory: witness, logger: TestPostgres.logger)
            #expect(first.previous == nil && first.latest.size == 4)
            trail = try await configuration.openAuditTrail(logger: TestPostgres.logger)
            for n in 4..<12 { try await trail.record(try Self.draft(n)) }
            await trail.close()
            let second = try await configuration.witnessAuditTrail(directory: witness, logger: TestPostgres.logger)
            #expect(second.previous?.size == 4 && second.latest.size > 4)
            #expect(second.description.contains("extends the one of 4 events"))
            let held = AuditWitness(directory: witness).checkpointPath
            // As a release's SDE-Audit-Checkpoint header carries it: base64.
            let header = witness + "/header"
            try Data(try Data(contentsOf: URL(fileURLWithPath: held)).base64EncodedString().utf8).write(to: URL(fileURLWithPath: header))
            #expect(try await configuration.verifyAuditTrail(against: [held, header], logger: TestPostgres.logger).isIntact)

            let insider = Insider(db: db, mirrorDirectory: fixture.mirrorDirectory)
            let events = try await insider.events()
            if resigning {
                // Event 2 edited, everything after it chained and checkpointed again with the broker's own key.
                var rewritten = Array(events[..<1])
                var chain = try AuditChain(replaying: rewritten)
                for event in events[1...] {
                    let next =
                        event.checkpoint == nil
                        ? event.relinked(after: chain.head, actor: event.sequence == 2 ? "someone-else" : nil)
                        : try chain.sealCheckpoint(at: event.time, signedBy: key, policy: try configuration.auditCheckpointPolicy())
                    try chain.advance(to: next)
                    rewritten.append(next)
                }
                try await insider.replace(with: rewritten)
            } else {
                // Both stores cut back to the first checkpoint: still a closed, intact trail on its own.
                try await insider.replace(with: Array(events[..<5]))
            }
            #expect(try await configuration.verifyAuditTrail(logger: TestPostgres.logger).isIntact, "the trail alone cannot tell")
            let result = try await configuration.verifyAuditTrail(against: [held], logger: TestPostgres.logger)
            #expect(!result.isIntact)
            #expect(result.database.failure?.kind == (resigning ? .witnessedRootMismatch : .truncated), "\(result.database)")
            #expect(result.mirror.failure?.kind == result.database.failure?.kind)
            let kept = try String(contentsOfFile: held, encoding: .utf8)
            let refusal = await #expect(throws: AuditError.self) {
                _ = try await configuration.witnessAuditTrail(directory: witness, logger: TestPostgres.logger)
            }
            #expect(refusal?.code == .inconsistentTree)
            #expect(try String(contentsOfFile: held, encoding: .utf8) == kept, "the witness keeps the checkpoint it held")
        }
    }

    /// With no event to carry it, a checkpoint still comes within the policy's seconds (here one), so the head a
    /// witness can fetch is never older than that while the broker runs.
    @Test func anIdleTrailIsCheckpointedWithinThePeriod() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await AuditTrail.open(
                database: config, mirrorDirectory: fixture.mirrorDirectory, signingKey: fixture.key, checkpointPeriod: .seconds(1),
                logger: TestPostgres.logger)
            try await trail.record(try Self.draft(1))
            var checkpointed = false
            for _ in 0..<50 where !checkpointed {
                try await Task.sleep(for: .milliseconds(100))
                checkpointed = await trail.head.sequence == 2
            }
            await trail.close()
            #expect(checkpointed)
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.audit_event") == 2, "close() adds nothing: nothing is left to cover")
            let result = try await AuditVerification.run(
                db, mirror: fixture.mirror, trustedKeys: [fixture.key.publicKey], policy: try AuditCheckpointPolicy(maxEvents: 1000, maxSeconds: 1),
                now: AuditTrail.now())
            #expect(result.isIntact, "\(result.database)")
        }
    }
}
