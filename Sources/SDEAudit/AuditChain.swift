/// The head of the hash chain, the Merkle tree of its events, and the only maker of new events.
///
/// `AuditChain` is a value: sealing is deterministic given the draft, the time and the head. The caller serialises
/// appends (one chain value behind a lock or in an actor), seals the next event, writes it to every store, and
/// only after the writes committed calls ``advance(to:)``; a failed write leaves the head where it was, so the
/// chain never forks and never skips.
///
/// Besides the head, the chain keeps what checkpoints need: the right edge of the Merkle tree of every event (a signed
/// tree head is a root of that tree), and how many ordinary events since the last checkpoint, and since when, so that
/// ``isCheckpointDue(at:policy:)`` can say when the gap policy calls for the next one.
///
/// ```swift
/// var chain = try AuditChain(resumingAfter: lastCheckpoint, eventsSince: laterEvents, key: brokerKey.publicKey)
/// if chain.isCheckpointDue(at: now, policy: .default) { try await store.append(try chain.sealCheckpoint(at: now, signedBy: brokerKey)) }
/// let event = chain.seal(draft, at: now)
/// try await store.append(event)          // database and JSONL mirror, committed
/// try chain.advance(to: event)
/// ```
public struct AuditChain: Sendable, Hashable {
    /// The last event appended; ``AuditHead/genesis`` for an empty chain.
    public private(set) var head: AuditHead
    /// The Merkle tree of events 1...head; `nil` for a chain started from a bare head, which cannot sign checkpoints.
    public private(set) var tree: AuditMerkleTree?
    /// Ordinary events since the last checkpoint.
    public private(set) var eventsSinceCheckpoint = 0
    /// When the first of them was sealed.
    public private(set) var firstEventSinceCheckpoint: AuditTimestamp?
    /// What the last checkpoint was.
    private var last = LastCheckpoint.none

    private enum LastCheckpoint: Hashable {
        case none
        case formatOne
        case treeHead(AuditCheckpointPolicy)
    }

    /// A chain continuing after `head`. From genesis the chain knows its (empty) tree; from any other bare head it does
    /// not, and only appends ordinary events (use ``init(replaying:)`` or ``init(resumingAfter:eventsSince:key:)``).
    public init(head: AuditHead = .genesis) {
        self.head = head
        self.tree = head == .genesis ? AuditMerkleTree() : nil
    }

    /// The chain whose events are `events`, from the first on; throws unless they link up from genesis.
    public init<Events: Sequence>(replaying events: Events) throws(AuditError) where Events.Element == AuditEvent {
        self.init()
        for event in events { try advance(to: event) }
    }

    /// The chain after a signed tree head `checkpoint` and the `events` that followed it, without reading what came
    /// before: the tree continues from the edge the checkpoint stores. Throws unless the checkpoint is a signed tree
    /// head by `key` whose stored edge gives its signed root, and the events link up after it.
    public init<Events: Sequence>(resumingAfter checkpoint: AuditEvent, eventsSince events: Events, key: AuditPublicKey) throws(AuditError)
    where Events.Element == AuditEvent {
        guard let stored = checkpoint.checkpoint, let note = stored.note, checkpoint.action == .auditCheckpoint,
            stored.head.sequence == checkpoint.sequence - 1, stored.head.hash == checkpoint.prevHash, checkpoint.computedHash == checkpoint.hash
        else { throw .invalidCheckpoint("event \(checkpoint.sequence) is not a signed tree head of the chain before it") }
        let signed = try AuditTreeHead(note: note, verifiedBy: key)
        var tree = try AuditMerkleTree(size: stored.head.sequence, edge: stored.treeEdge)
        guard signed.size == tree.size, signed.root == tree.root, signed.time == checkpoint.time else {
            throw .invalidCheckpoint("the tree stored with checkpoint \(checkpoint.sequence) does not have the root it signs")
        }
        tree.append(leaf: AuditJSONL.encode(checkpoint))
        self.head = checkpoint.head
        self.tree = tree
        self.last = .treeHead(signed.policy)
        for event in events { try advance(to: event) }
    }

    /// Whether the next event sealed at `time` must be preceded by a checkpoint under `policy`: `policy.maxEvents`
    /// ordinary events since the last one, or `policy.maxSeconds` since the first of them, or the last checkpoint was
    /// written under another policy (or is of format 1), so the new one must be recorded before the gap it governs.
    public func isCheckpointDue(at time: AuditTimestamp, policy: AuditCheckpointPolicy) -> Bool {
        if eventsSinceCheckpoint >= policy.maxEvents { return true }
        if let first = firstEventSinceCheckpoint, time.millisecondsSinceEpoch - first.millisecondsSinceEpoch >= policy.maxMilliseconds { return true }
        switch last {
        case .none: return false
        case .formatOne: return true
        case .treeHead(let recorded): return recorded != policy
        }
    }

    /// The event that would follow the head for `draft` at `time`; the head does not move.
    public func seal(_ draft: AuditEventDraft, at time: AuditTimestamp) -> AuditEvent {
        sealed(
            time: time, actor: draft.actor, role: draft.role, project: draft.project, action: draft.action, target: draft.target,
            parameters: draft.parameters, policyDigest: draft.policyDigest, outcome: draft.outcome, reason: draft.reason, cells: draft.cells,
            outputDigest: draft.outputDigest, checkpoint: nil)
    }

    /// The `audit.checkpoint` event that would follow the head: a signed tree head (``AuditTreeHead``) by `key` of
    /// every event up to the head, recording `policy`; the head does not move. Throws ``AuditError/Code/treeUnknown``
    /// when the chain does not know its tree.
    public func sealCheckpoint(
        at time: AuditTimestamp, signedBy key: AuditSigningKey, policy: AuditCheckpointPolicy = .default, policyDigest: AuditDigest? = nil
    ) throws(AuditError) -> AuditEvent {
        guard let tree else { throw .treeUnknown("the chain was started from a bare head: replay it or resume it after a checkpoint") }
        let signed = try AuditTreeHead.signing(size: tree.size, root: tree.root, time: time, policy: policy, key: key)
        let checkpoint = AuditCheckpoint(head: head, keyID: key.publicKey.keyID, note: signed.description, treeEdge: tree.edge)
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
        moveHead(to: event)
    }

    /// Seals `draft` at `time` and moves the head to it in one step, for callers with a single store.
    public mutating func append(_ draft: AuditEventDraft, at time: AuditTimestamp) -> AuditEvent {
        let event = seal(draft, at: time)
        moveHead(to: event)
        return event
    }

    /// Seals a checkpoint at `time` and moves the head to it in one step.
    public mutating func appendCheckpoint(
        at time: AuditTimestamp, signedBy key: AuditSigningKey, policy: AuditCheckpointPolicy = .default, policyDigest: AuditDigest? = nil
    ) throws(AuditError) -> AuditEvent {
        let event = try sealCheckpoint(at: time, signedBy: key, policy: policy, policyDigest: policyDigest)
        moveHead(to: event)
        return event
    }

    private mutating func moveHead(to event: AuditEvent) {
        tree?.append(leaf: AuditJSONL.encode(event))
        head = event.head
        if let checkpoint = event.checkpoint {
            eventsSinceCheckpoint = 0
            firstEventSinceCheckpoint = nil
            if let note = checkpoint.note, let policy = AuditTreeHead.recordedPolicy(note: note) {
                last = .treeHead(policy)
            } else {
                last = .formatOne
            }
        } else {
            eventsSinceCheckpoint += 1
            if firstEventSinceCheckpoint == nil { firstEventSinceCheckpoint = event.time }
        }
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
