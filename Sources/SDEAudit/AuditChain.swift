/// The head of the hash chain and the only maker of new events.
///
/// `AuditChain` is a value: sealing is deterministic given the draft, the time and the head. The caller serialises
/// appends (one chain value behind a lock or in an actor), seals the next event, writes it to every store, and
/// only after the writes committed calls ``advance(to:)``; a failed write leaves the head where it was, so the
/// chain never forks and never skips.
///
/// ```swift
/// var chain = AuditChain(head: lastStoredEvent?.head ?? .genesis)
/// let event = chain.seal(draft, at: now)
/// try await store.append(event)          // database and JSONL mirror, committed
/// try chain.advance(to: event)
/// // periodically and at shutdown:
/// let checkpoint = try chain.sealCheckpoint(at: now, signedBy: brokerKey)
/// ```
public struct AuditChain: Sendable, Hashable {
    /// The last event appended; ``AuditHead/genesis`` for an empty chain.
    public private(set) var head: AuditHead

    /// A chain continuing after `head` (the last stored event's head, or genesis for a new trail).
    public init(head: AuditHead = .genesis) { self.head = head }

    /// The event that would follow the head for `draft` at `time`; the head does not move.
    public func seal(_ draft: AuditEventDraft, at time: AuditTimestamp) -> AuditEvent {
        sealed(
            time: time, actor: draft.actor, role: draft.role, project: draft.project, action: draft.action, target: draft.target,
            parameters: draft.parameters, policyDigest: draft.policyDigest, outcome: draft.outcome, reason: draft.reason, cells: draft.cells,
            outputDigest: draft.outputDigest, checkpoint: nil)
    }

    /// The `audit.checkpoint` event that would follow the head: it carries the head and `key`'s signature of
    /// ``AuditCheckpoint/signedMessage(head:time:)``; the head does not move.
    public func sealCheckpoint(
        at time: AuditTimestamp, signedBy key: AuditSigningKey, policyDigest: AuditDigest? = nil
    ) throws(AuditError) -> AuditEvent {
        let signature = try key.signature(for: AuditCheckpoint.signedMessage(head: head, time: time))
        let checkpoint = AuditCheckpoint(head: head, keyID: key.publicKey.keyID, signature: signature)
        return sealed(
            time: time, actor: AuditEventDraft.brokerActor, role: nil, project: nil, action: .auditCheckpoint, target: nil, parameters: [:],
            policyDigest: policyDigest, outcome: .allowed, reason: nil, cells: .none, outputDigest: nil, checkpoint: checkpoint)
    }

    /// Moves the head to `event` once it is stored; throws ``AuditError/Code/doesNotExtendChain`` unless `event`
    /// is the next link (next sequence number, previous hash equal to the head's hash, hash matching its fields).
    public mutating func advance(to event: AuditEvent) throws(AuditError) {
        guard event.sequence == head.sequence + 1 else {
            throw .doesNotExtendChain("sequence \(event.sequence) does not follow \(head.sequence)")
        }
        guard event.prevHash == head.hash else { throw .doesNotExtendChain("prev_hash of \(event.sequence) is not the head's hash") }
        guard event.computedHash == event.hash else { throw .doesNotExtendChain("hash of \(event.sequence) does not match its fields") }
        head = event.head
    }

    /// Seals `draft` at `time` and moves the head to it in one step, for callers with a single store.
    public mutating func append(_ draft: AuditEventDraft, at time: AuditTimestamp) -> AuditEvent {
        let event = seal(draft, at: time)
        head = event.head
        return event
    }

    /// Seals a checkpoint at `time` and moves the head to it in one step.
    public mutating func appendCheckpoint(
        at time: AuditTimestamp, signedBy key: AuditSigningKey, policyDigest: AuditDigest? = nil
    ) throws(AuditError) -> AuditEvent {
        let event = try sealCheckpoint(at: time, signedBy: key, policyDigest: policyDigest)
        head = event.head
        return event
    }

    private func sealed(
        time: AuditTimestamp, actor: String, role: String?, project: String?, action: AuditAction, target: String?,
        parameters: [String: String], policyDigest: AuditDigest?, outcome: AuditOutcome, reason: String?, cells: AuditCellCounts,
        outputDigest: AuditDigest?, checkpoint: AuditCheckpoint?
    ) -> AuditEvent {
        let unsealed = AuditEvent(
            sequence: head.sequence + 1, time: time, actor: actor, role: role, project: project, action: action, target: target,
            parameters: parameters, policyDigest: policyDigest, outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest,
            checkpoint: checkpoint, prevHash: head.hash, hash: .zero)
        return AuditEvent(
            sequence: unsealed.sequence, time: time, actor: actor, role: role, project: project, action: action, target: target,
            parameters: parameters, policyDigest: policyDigest, outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest,
            checkpoint: checkpoint, prevHash: head.hash, hash: unsealed.computedHash)
    }
}
