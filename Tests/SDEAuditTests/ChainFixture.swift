import SDEAudit

/// A generated chain with its signing key, as JSONL lines and as events.
struct ChainFixture {
    let key: AuditSigningKey
    let events: [AuditEvent]

    /// 2026-11-26T09:00:00.000Z.
    static let startMilliseconds: Int64 = 1_795_683_600_000

    /// `count` events; after every `checkpointEvery` ordinary events a checkpoint is appended (counted in `count`).
    init(count: Int, checkpointEvery: Int? = 5, key: AuditSigningKey = AuditSigningKey()) throws {
        self.key = key
        var chain = AuditChain()
        var events: [AuditEvent] = []
        var sinceCheckpoint = 0
        for i in 0..<count {
            let time = ChainFixture.time(i)
            if let every = checkpointEvery, sinceCheckpoint == every {
                events.append(try chain.appendCheckpoint(at: time, signedBy: key))
                sinceCheckpoint = 0
            } else {
                events.append(chain.append(try ChainFixture.draft(i), at: time))
                sinceCheckpoint += 1
            }
        }
        self.events = events
    }

    /// Ten seconds apart from ``startMilliseconds``.
    static func time(_ i: Int) -> AuditTimestamp { AuditTimestamp(millisecondsSinceEpoch: startMilliseconds + Int64(i) * 10_000)! }

    /// A varied, realistic draft: three actors, two projects, runs, denials and authentication failures.
    static func draft(_ i: Int) throws -> AuditEventDraft {
        let actor = ["u.khan", "u.okafor", "u.smith"][i % 3]
        let project = i % 2 == 0 ? "P2026-003" : "P2026-007"
        let policy = AuditDigest.sha256(of: Array("policy-set-\(i / 100)".utf8))
        switch i % 7 {
        case 3:
            return try AuditEventDraft(
                actor: actor, role: "researcher", project: project, action: .queryDenied, target: "discharges-by-la",
                parameters: ["from": "2023Q2"], policyDigest: policy, outcome: .denied, reason: "parameter_out_of_domain")
        case 5:
            return try AuditEventDraft(
                actor: AuditEventDraft.anonymousActor, role: nil, action: .authFailed, outcome: .denied, reason: "token_unknown")
        default:
            return try AuditEventDraft(
                actor: actor, role: "researcher", project: project, action: .queryRun, target: "requests-by-la-quarter",
                parameters: ["from": "2023Q\(i % 4 + 1)", "to": "2024Q1", "la_code": "E0600000\(i % 10)"], policyDigest: policy,
                outcome: .allowed, cells: AuditCellCounts(released: 40 + i % 13, suppressed: ["threshold": i % 4, "secondary": i % 3]),
                outputDigest: AuditDigest.sha256(of: Array("table \(i)".utf8)))
        }
    }

    /// The chain as JSONL lines without newlines.
    var lines: [String] { events.map(ChainFixture.line) }

    static func line(_ event: AuditEvent) -> String { String(decoding: AuditJSONL.encode(event), as: UTF8.self) }

    /// Verifies `lines` (numbered from 1) with this fixture's key unless `keys` says otherwise.
    func verify(
        _ lines: [String], keys: [AuditPublicKey]? = nil, expectedHeads: [AuditHead] = [], maximumCheckpointInterval: Int? = nil
    ) -> AuditVerificationReport {
        var verifier = AuditVerifier(
            trustedKeys: keys ?? [key.publicKey], expectedHeads: expectedHeads, maximumCheckpointInterval: maximumCheckpointInterval)
        for (i, line) in lines.enumerated() where !verifier.consume(line: Array(line.utf8), lineNumber: i + 1) { break }
        return verifier.report
    }

    /// Verifies events as they would come from the database.
    func verify(events: [AuditEvent], expectedHeads: [AuditHead] = []) -> AuditVerificationReport {
        var verifier = AuditVerifier(trustedKeys: [key.publicKey], expectedHeads: expectedHeads)
        for event in events where !verifier.consume(event) { break }
        return verifier.report
    }
}

extension AuditEvent {
    /// A copy with some fields replaced and, unless `keepHash`, the hash recomputed: what an attacker who
    /// knows the hashing rule writes.
    func forged(
        sequence: Int64? = nil, time: AuditTimestamp? = nil, actor: String? = nil, action: AuditAction? = nil, checkpoint: AuditCheckpoint?? = nil,
        prevHash: AuditDigest? = nil, keepHash: Bool = false
    ) -> AuditEvent {
        let copy = AuditEvent(
            sequence: sequence ?? self.sequence, time: time ?? self.time, actor: actor ?? self.actor, role: role, project: project,
            action: action ?? self.action,
            target: target, parameters: parameters, policyDigest: policyDigest, outcome: outcome, reason: reason, cells: cells,
            outputDigest: outputDigest, checkpoint: checkpoint ?? self.checkpoint, prevHash: prevHash ?? self.prevHash, hash: hash)
        guard !keepHash else { return copy }
        return AuditEvent(
            sequence: copy.sequence, time: copy.time, actor: copy.actor, role: role, project: project, action: copy.action, target: target,
            parameters: parameters, policyDigest: policyDigest, outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest,
            checkpoint: copy.checkpoint, prevHash: copy.prevHash, hash: copy.computedHash)
    }
}
