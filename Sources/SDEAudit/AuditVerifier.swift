#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The first thing found wrong with a chain: which event, and what kind of damage.
///
/// ```swift
/// if let failure = report.failure, failure.kind == .hashMismatch { print("line \(failure.lineNumber ?? 0): \(failure)") }
/// ```
public struct AuditVerificationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable kind of damage.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case malformedLine = "malformed_line"
            case hashMismatch = "hash_mismatch"
            case sequenceGap = "sequence_gap"
            case sequenceDuplicate = "sequence_duplicate"
            case prevHashMismatch = "prev_hash_mismatch"
            case invalidCheckpoint = "invalid_checkpoint"
            case checkpointHeadMismatch = "checkpoint_head_mismatch"
            case unknownCheckpointKey = "unknown_checkpoint_key"
            case badCheckpointSignature = "bad_checkpoint_signature"
            case checkpointMissing = "checkpoint_missing"
            case expectedHeadMismatch = "expected_head_mismatch"
            case truncated = "truncated"
            case checkpointRootMismatch = "checkpoint_root_mismatch"
            case witnessedRootMismatch = "witnessed_root_mismatch"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A JSONL line is not the canonical encoding of an event.
        public static let malformedLine = Kind(.malformedLine)
        /// The stored hash does not match the fields: a field was edited.
        public static let hashMismatch = Kind(.hashMismatch)
        /// A sequence number was skipped: events deleted, or moved later.
        public static let sequenceGap = Kind(.sequenceGap)
        /// A sequence number repeats or goes back: an event duplicated, inserted or moved earlier.
        public static let sequenceDuplicate = Kind(.sequenceDuplicate)
        /// `prev_hash` is not the previous event's hash: the link was broken by a removal, insertion or reorder.
        public static let prevHashMismatch = Kind(.prevHashMismatch)
        /// `audit.checkpoint` without checkpoint fields, or checkpoint fields on another action.
        public static let invalidCheckpoint = Kind(.invalidCheckpoint)
        /// A checkpoint's signed head is not the event before it: the chain was rewritten before the checkpoint.
        public static let checkpointHeadMismatch = Kind(.checkpointHeadMismatch)
        /// A checkpoint names a key that is not trusted.
        public static let unknownCheckpointKey = Kind(.unknownCheckpointKey)
        /// A checkpoint's signature does not verify with the trusted key it names.
        public static let badCheckpointSignature = Kind(.badCheckpointSignature)
        /// More events than allowed went by without a checkpoint (checkpoints removed).
        public static let checkpointMissing = Kind(.checkpointMissing)
        /// An event's hash differs from a head recorded elsewhere (an earlier checkpoint, the other store).
        public static let expectedHeadMismatch = Kind(.expectedHeadMismatch)
        /// The chain ends before a head recorded elsewhere, or before the size of a checkpoint a witness holds.
        public static let truncated = Kind(.truncated)
        /// A signed tree head's root (or the tree edge stored with it) is not that of the events before it: the trail
        /// was rewritten before the checkpoint.
        public static let checkpointRootMismatch = Kind(.checkpointRootMismatch)
        /// The trail's Merkle root at the size of a checkpoint a witness holds is not the root that checkpoint signs:
        /// events at or before that size were rewritten, inserted or deleted, and the trail re-signed.
        public static let witnessedRootMismatch = Kind(.witnessedRootMismatch)

        /// The snake_case name of the kind.
        public var description: String { base.rawValue }
    }

    /// What is wrong.
    public let kind: Kind
    /// 1-based position of the broken event in the stream given to the verifier; `nil` for truncation.
    public let position: Int?
    /// Sequence number of the broken event as stored; `nil` for a malformed line or truncation.
    public let sequence: Int64?
    /// Line number given with a JSONL line.
    public let lineNumber: Int?
    /// What is wrong, for people.
    public let message: String

    private init(_ kind: Kind, position: Int?, sequence: Int64?, lineNumber: Int?, _ message: String) {
        self.kind = kind
        self.position = position
        self.sequence = sequence
        self.lineNumber = lineNumber
        self.message = message
    }

    /// `line 12, sequence 11: hash_mismatch: ...`.
    public var description: String {
        var place: [String] = []
        if let lineNumber { place.append("line \(lineNumber)") }
        if let sequence { place.append("sequence \(sequence)") }
        if place.isEmpty, let position { place.append("event \(position)") }
        return (place.isEmpty ? "" : place.joined(separator: ", ") + ": ") + "\(kind): \(message)"
    }

    static func malformedLine(position: Int, lineNumber: Int?, _ error: AuditError) -> Self {
        Self(.malformedLine, position: position, sequence: nil, lineNumber: lineNumber, error.message)
    }

    static func hashMismatch(_ at: Place, stored: AuditDigest, computed: AuditDigest) -> Self {
        Self(.hashMismatch, at, "stored hash \(stored) but the fields hash to \(computed): the event was edited")
    }

    static func sequenceGap(_ at: Place, expected: Int64) -> Self {
        Self(.sequenceGap, at, "expected sequence \(expected), found \(at.sequence): events are missing or out of order")
    }

    static func sequenceDuplicate(_ at: Place, expected: Int64) -> Self {
        Self(.sequenceDuplicate, at, "expected sequence \(expected), found \(at.sequence): an event is repeated, inserted or out of order")
    }

    static func prevHashMismatch(_ at: Place, previous: AuditHead) -> Self {
        Self(.prevHashMismatch, at, "prev_hash is not the hash of sequence \(previous.sequence) (\(previous.hash)): the chain link is broken")
    }

    static func invalidCheckpoint(_ at: Place, _ why: String) -> Self { Self(.invalidCheckpoint, at, why) }

    static func checkpointHeadMismatch(_ at: Place, signed: AuditHead, actual: AuditHead) -> Self {
        Self(.checkpointHeadMismatch, at, "checkpoint signed head \(signed) but the chain before it is \(actual): the chain was rewritten")
    }

    static func unknownCheckpointKey(_ at: Place, keyID: String) -> Self {
        Self(.unknownCheckpointKey, at, "checkpoint signed by key \(keyID), which is not a trusted key")
    }

    static func badCheckpointSignature(_ at: Place, keyID: String) -> Self {
        Self(.badCheckpointSignature, at, "checkpoint signature does not verify with trusted key \(keyID): the checkpoint was forged or altered")
    }

    static func checkpointMissing(_ at: Place, interval: Int) -> Self {
        Self(.checkpointMissing, at, "more than \(interval) events without a checkpoint: checkpoints were removed")
    }

    static func checkpointMissing(_ at: Place, seconds: Int, since first: AuditTimestamp) -> Self {
        Self(
            .checkpointMissing, at,
            "more than \(seconds) seconds after the first event not yet checkpointed (\(first)) without a checkpoint: checkpoints were removed")
    }

    static func checkpointOverdue(_ at: Place, seconds: Int, since first: AuditTimestamp, now: AuditTimestamp) -> Self {
        Self(
            .checkpointMissing, at,
            "the events since \(first) have waited more than \(seconds) seconds for a checkpoint (it is \(now)): later checkpoints were "
                + "removed, or the broker stopped without closing its trail (starting it again writes the checkpoint)")
    }

    static func checkpointRootMismatch(_ at: Place, _ why: String) -> Self { Self(.checkpointRootMismatch, at, why) }

    static func witnessedRootMismatch(_ at: Place, size: Int64) -> Self {
        Self(
            .witnessedRootMismatch, at,
            "the Merkle root of the first \(size) events is not the one a witness holds for that size: the trail was rewritten and re-signed")
    }

    static func truncated(last: AuditHead, witnessed: AuditTreeHead) -> Self {
        Self(
            .truncated, position: nil, sequence: nil, lineNumber: nil,
            "the chain ends at sequence \(last.sequence) but a witness holds a checkpoint of \(witnessed.size) events: events were removed from the end"
        )
    }

    static func expectedHeadMismatch(_ at: Place, expected: AuditDigest, found: AuditDigest) -> Self {
        Self(.expectedHeadMismatch, at, "hash is \(found) but \(expected) was recorded for this sequence: the chain was rewritten")
    }

    static func truncated(last: AuditHead, expected: AuditHead) -> Self {
        Self(
            .truncated, position: nil, sequence: nil, lineNumber: nil,
            "the chain ends at sequence \(last.sequence) but \(expected) was recorded: events were removed from the end")
    }

    /// Where an event sits: position in the stream, its sequence number, its line.
    struct Place {
        let position: Int
        let sequence: Int64
        let lineNumber: Int?
    }

    private init(_ kind: Kind, _ at: Place, _ message: String) {
        self.init(kind, position: at.position, sequence: at.sequence, lineNumber: at.lineNumber, message)
    }
}

/// What ``AuditVerifier`` found: counts over the intact prefix and the first failure, if any.
public struct AuditVerificationReport: Sendable, Hashable, CustomStringConvertible {
    /// Events verified before the first failure (all of them when intact).
    public let events: Int
    /// Checkpoints among them whose signatures verified.
    public let checkpoints: Int
    /// The head of the verified prefix.
    public let head: AuditHead
    /// The head signed by the last valid checkpoint, if there was one.
    public let lastSignedHead: AuditHead?
    /// Events after the last checkpoint: the tail that only an expected head or the other store protects.
    public let eventsAfterLastCheckpoint: Int
    /// The Merkle root of the verified prefix (``AuditMerkleTree/root``), when the verifier started at genesis.
    public let root: AuditDigest?
    /// The checkpoints held by witnesses that the trail was shown to extend.
    public let witnessed: Int
    /// The first broken event, or `nil` when the chain is intact.
    public let failure: AuditVerificationFailure?

    /// Whether no damage was found.
    public var isIntact: Bool { failure == nil }

    /// One line for the CLI.
    public var description: String {
        var counts = "\(events) events, \(checkpoints) checkpoints, head \(head), \(eventsAfterLastCheckpoint) after the last checkpoint"
        if witnessed > 0 { counts += ", extends \(witnessed) witnessed checkpoint\(witnessed == 1 ? "" : "s")" }
        guard let failure else { return "intact: \(counts)" }
        return "broken: \(failure) (verified before it: \(counts))"
    }
}

/// Streaming verifier of one chain, fed in order from the database or the JSONL mirror.
///
/// For every event it checks, in this order: the stored hash against the fields; the sequence number (next one,
/// no gap, no repeat); `prev_hash` against the previous event's hash; for checkpoints, that the signed head is
/// the previous event, that the signature verifies with a trusted key and, for signed tree heads, that the signed root
/// is the Merkle root of every event before it; for other events, that the gap since the last checkpoint is within
/// the policy that checkpoint recorded (before the first, the policy the verifier is given); that events agree with
/// heads recorded elsewhere; and that the Merkle root at the size of each checkpoint a witness holds is the root it
/// signed. It stops at the first failure.
///
/// So a rewrite by someone without the signing key is caught at the first checkpoint after the rewritten event, or by
/// the gap the removed checkpoints leave (and, given `now`, by a tail that waited too long for its checkpoint); a
/// rewrite re-signed with the key, or a cut tail, is caught against a checkpoint a witness kept (`witnessed`).
///
/// ```swift
/// var verifier = AuditVerifier(trustedKeys: [brokerPublicKey], witnessed: [heldByIG], now: now)
/// for (number, line) in lines.enumerated() { guard verifier.consume(line: line, lineNumber: number + 1) else { break } }
/// print(verifier.report)   // intact: 1000000 events, ...
/// ```
public struct AuditVerifier: Sendable {
    private let trustedKeys: [String: AuditPublicKey]
    private let expectedHeads: [AuditHead]
    private let witnessed: [AuditTreeHead]
    private let maximumCheckpointInterval: Int?
    private let unrecordedPolicy: AuditCheckpointPolicy
    private let now: AuditTimestamp?
    private var nextExpectedHead = 0
    private var nextWitnessed = 0
    private var head: AuditHead
    private var tree: AuditMerkleTree?
    private var position = 0
    private var events = 0
    private var checkpoints = 0
    private var lastSignedHead: AuditHead?
    private var recordedPolicy: AuditCheckpointPolicy?
    private var eventsAfterLastCheckpoint = 0
    private var firstAfterLastCheckpoint: (time: AuditTimestamp, place: AuditVerificationFailure.Place)?
    private var failure: AuditVerificationFailure?
    /// A gap before the first checkpoint that breaks the given policy but not the ceiling: a failure unless that first
    /// checkpoint is of format 1 (a trail begun before signed tree heads, when checkpoints were not timed).
    private var pendingFailure: AuditVerificationFailure?
    private var sawCheckpoint = false
    private var encoder = AuditEncoder()

    /// How far the verifier's clock and the broker's may disagree, and how late the broker's checkpoint timer may
    /// fire, before a tail waiting for its checkpoint counts as one whose checkpoints were removed.
    public static let clockTolerance: Duration = .seconds(60)

    /// A verifier for the events after `start` (genesis for a whole chain).
    ///
    /// - Parameters:
    ///   - trustedKeys: public keys whose checkpoints are accepted; a checkpoint by any other key is a failure.
    ///   - start: the head the first event must follow, for verifying only what was appended since (the Merkle tree,
    ///     and so signed roots and witnessed checkpoints, are checked only from genesis).
    ///   - expectedHeads: heads recorded elsewhere; the chain must contain each (those at or before `start` are not checked).
    ///   - witnessed: checkpoints a witness holds (already checked against a trusted key, see ``AuditTreeHead``): the
    ///     trail must reach each one's size with each one's root.
    ///   - maximumCheckpointInterval: when set, more than this many events in a row without a checkpoint is a failure
    ///     even where the recorded policy allows more.
    ///   - policy: the gap policy where no signed checkpoint records one (before the first, after a format-1 one): the
    ///     broker's configured policy, known to the verifier out of band, never read from the trail. Recorded policies
    ///     are signed, and bounded by ``AuditCheckpointPolicy/ceiling``.
    ///   - now: when set, events waiting for a checkpoint longer than the policy allows (plus ``clockTolerance``) at
    ///     this time are a failure: a running broker's timer would have checkpointed them.
    public init(
        trustedKeys: [AuditPublicKey], startingAfter start: AuditHead = .genesis, expectedHeads: [AuditHead] = [],
        witnessed: [AuditTreeHead] = [], maximumCheckpointInterval: Int? = nil, policy: AuditCheckpointPolicy = .ceiling, now: AuditTimestamp? = nil
    ) {
        self.trustedKeys = Dictionary(trustedKeys.map { ($0.keyID, $0) }, uniquingKeysWith: { first, _ in first })
        self.expectedHeads = expectedHeads.filter { $0.sequence > start.sequence }.sorted { $0.sequence < $1.sequence }
        self.witnessed = witnessed.sorted { $0.size < $1.size }
        self.maximumCheckpointInterval = maximumCheckpointInterval
        self.unrecordedPolicy = policy
        self.now = now
        self.head = start
        self.tree = start == .genesis ? AuditMerkleTree() : nil
        // The empty tree is what every trail extends; a witnessed checkpoint of size 0 must have its root.
        while nextWitnessed < self.witnessed.count, self.witnessed[nextWitnessed].size == 0 {
            if self.witnessed[nextWitnessed].root != AuditMerkle.emptyRoot {
                failure = .witnessedRootMismatch(AuditVerificationFailure.Place(position: 0, sequence: 0, lineNumber: nil), size: 0)
            }
            nextWitnessed += 1
        }
    }

    /// Whether no damage has been found so far.
    public var isIntact: Bool { failure == nil && pendingFailure == nil }

    /// The result so far; a chain that ends before an expected head or a witnessed size is reported as truncated, and,
    /// given `now`, one whose tail waited too long for a checkpoint as missing checkpoints.
    public var report: AuditVerificationReport {
        var failure = self.failure ?? pendingFailure
        if failure == nil, nextExpectedHead < expectedHeads.count {
            failure = .truncated(last: head, expected: expectedHeads[nextExpectedHead])
        }
        if failure == nil, nextWitnessed < witnessed.count {
            failure = .truncated(last: head, witnessed: witnessed[nextWitnessed])
        }
        if failure == nil, let now, let first = firstAfterLastCheckpoint {
            let limit = recordedPolicy ?? (sawCheckpoint ? .ceiling : unrecordedPolicy)
            let tolerance = Self.clockTolerance.components.seconds * 1000
            if now.millisecondsSinceEpoch - first.time.millisecondsSinceEpoch > limit.maxMilliseconds + tolerance {
                failure = .checkpointOverdue(first.place, seconds: limit.maxSeconds, since: first.time, now: now)
            }
        }
        return AuditVerificationReport(
            events: events, checkpoints: checkpoints, head: head, lastSignedHead: lastSignedHead,
            eventsAfterLastCheckpoint: eventsAfterLastCheckpoint, root: tree?.root, witnessed: nextWitnessed, failure: failure)
    }

    /// Checks the next event (e.g. a database row); returns `false` once the chain is broken.
    @discardableResult
    public mutating func consume(_ event: AuditEvent) -> Bool {
        guard failure == nil else { return false }
        position += 1
        let leaf = tree == nil ? AuditDigest.zero : AuditMerkle.leafHash(AuditJSONL.encode(event))
        return check(event, computedHash: encoder.hash(of: event), leafHash: leaf, lineNumber: nil)
    }

    /// Decodes and checks the next JSONL line (without its newline); returns `false` once the chain is broken.
    @discardableResult
    public mutating func consume<Bytes: Collection>(line: Bytes, lineNumber: Int) -> Bool where Bytes.Element == UInt8 {
        guard failure == nil else { return false }
        position += 1
        do {
            let (event, computedHash) = try AuditJSONL.decode(line, encoder: &encoder)
            // The line is the canonical encoding (the decoder checked), so it is the leaf itself.
            let leaf = tree == nil ? AuditDigest.zero : AuditMerkle.leafHash(line)
            return check(event, computedHash: computedHash, leafHash: leaf, lineNumber: lineNumber)
        } catch {
            failure = .malformedLine(position: position, lineNumber: lineNumber, error)
            return false
        }
    }

    /// Checks a whole JSONL text: every line must end with a newline (a last line without one is a torn
    /// write and reported as malformed); line numbers start at `firstLineNumber`.
    @discardableResult
    public mutating func consume(jsonl bytes: [UInt8], firstLineNumber: Int = 1) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            var lineNumber = firstLineNumber
            while start < buffer.count {
                guard let found = memchr(buffer.baseAddress! + start, 0x0A, buffer.count - start) else {
                    guard failure == nil else { return false }
                    position += 1
                    failure = .malformedLine(
                        position: position, lineNumber: lineNumber, .malformedLine(at: buffer.count - start, "last line has no newline"))
                    return false
                }
                let newline = buffer.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
                guard consume(line: UnsafeBufferPointer(rebasing: buffer[start..<newline]), lineNumber: lineNumber) else { return false }
                start = newline + 1
                lineNumber += 1
            }
            return failure == nil
        }
    }

    private mutating func check(_ event: AuditEvent, computedHash: AuditDigest, leafHash: AuditDigest, lineNumber: Int?) -> Bool {
        let at = AuditVerificationFailure.Place(position: position, sequence: event.sequence, lineNumber: lineNumber)
        var grown = tree
        grown?.append(leafHash: leafHash)
        failure = damage(in: event, computedHash: computedHash, at: at) ?? witnessDamage(grown, at: at)
        if failure == nil, !sawCheckpoint, let checkpoint = event.checkpoint, let pending = pendingFailure {
            if checkpoint.isTreeHead { failure = pending } else { pendingFailure = nil }
        }
        guard failure == nil else { return false }
        if let checkpoint = event.checkpoint {
            sawCheckpoint = true
            checkpoints += 1
            lastSignedHead = checkpoint.head
            eventsAfterLastCheckpoint = 0
            firstAfterLastCheckpoint = nil
            recordedPolicy = checkpoint.note.flatMap { AuditTreeHead.recordedPolicy(note: $0) }
        } else {
            eventsAfterLastCheckpoint += 1
            if firstAfterLastCheckpoint == nil { firstAfterLastCheckpoint = (event.time, at) }
        }
        while nextExpectedHead < expectedHeads.count, expectedHeads[nextExpectedHead].sequence == event.sequence { nextExpectedHead += 1 }
        if let grown {
            while nextWitnessed < witnessed.count, witnessed[nextWitnessed].size == grown.size { nextWitnessed += 1 }
        }
        tree = grown
        head = event.head
        events += 1
        return true
    }

    /// A witnessed checkpoint of the size the tree has just reached whose root is not the tree's.
    private func witnessDamage(_ grown: AuditMerkleTree?, at: AuditVerificationFailure.Place) -> AuditVerificationFailure? {
        guard let grown else {
            return nextWitnessed < witnessed.count ? .witnessedRootMismatch(at, size: witnessed[nextWitnessed].size) : nil
        }
        var i = nextWitnessed
        while i < witnessed.count, witnessed[i].size == grown.size {
            guard witnessed[i].root == grown.root else { return .witnessedRootMismatch(at, size: grown.size) }
            i += 1
        }
        return nil
    }

    private mutating func damage(in event: AuditEvent, computedHash: AuditDigest, at: AuditVerificationFailure.Place) -> AuditVerificationFailure? {
        guard computedHash == event.hash else { return .hashMismatch(at, stored: event.hash, computed: computedHash) }
        let expected = head.sequence + 1
        guard event.sequence <= expected else { return .sequenceGap(at, expected: expected) }
        guard event.sequence == expected else { return .sequenceDuplicate(at, expected: expected) }
        guard event.prevHash == head.hash else { return .prevHashMismatch(at, previous: head) }
        switch (event.action == .auditCheckpoint, event.checkpoint) {
        case (true, let checkpoint?):
            guard checkpoint.head == head else { return .checkpointHeadMismatch(at, signed: checkpoint.head, actual: head) }
            guard let key = trustedKeys[checkpoint.keyID] else { return .unknownCheckpointKey(at, keyID: checkpoint.keyID) }
            if let note = checkpoint.note {
                if let damage = treeHeadDamage(note: note, edge: checkpoint.treeEdge, event: event, key: key, at: at) { return damage }
            } else {
                guard key.isValidSignature(checkpoint.signature, for: AuditCheckpoint.signedMessage(head: checkpoint.head, time: event.time)) else {
                    return .badCheckpointSignature(at, keyID: checkpoint.keyID)
                }
            }
        case (true, nil):
            return .invalidCheckpoint(at, "audit.checkpoint event without checkpoint fields")
        case (false, .some):
            return .invalidCheckpoint(at, "checkpoint fields on a \(event.action) event")
        case (false, nil):
            if let gap = gapDamage(event, at: at, limit: recordedPolicy ?? .ceiling) { return gap }
            if !sawCheckpoint, pendingFailure == nil, let gap = gapDamage(event, at: at, limit: unrecordedPolicy) { pendingFailure = gap }
        }
        var i = nextExpectedHead
        while i < expectedHeads.count, expectedHeads[i].sequence == event.sequence {
            guard expectedHeads[i].hash == event.hash else { return .expectedHeadMismatch(at, expected: expectedHeads[i].hash, found: event.hash) }
            i += 1
        }
        return nil
    }

    /// More ordinary events since the last checkpoint, or a longer wait, than `limit` allows.
    private func gapDamage(_ event: AuditEvent, at: AuditVerificationFailure.Place, limit: AuditCheckpointPolicy) -> AuditVerificationFailure? {
        let interval = min(limit.maxEvents, maximumCheckpointInterval ?? Int.max)
        if eventsAfterLastCheckpoint + 1 > interval { return .checkpointMissing(at, interval: interval) }
        if let first = firstAfterLastCheckpoint, event.time.millisecondsSinceEpoch - first.time.millisecondsSinceEpoch > limit.maxMilliseconds {
            return .checkpointMissing(at, seconds: limit.maxSeconds, since: first.time)
        }
        return nil
    }

    /// What is wrong with a signed tree head, if anything: its note must verify with `key`, sign the size and time of
    /// the checkpoint event, and (from genesis) the root of the events before it, whose tree edge it must store.
    private func treeHeadDamage(
        note: String, edge: [AuditDigest], event: AuditEvent, key: AuditPublicKey, at: AuditVerificationFailure.Place
    ) -> AuditVerificationFailure? {
        guard let parsed = try? AuditSignedNote(parsing: note) else { return .invalidCheckpoint(at, "the checkpoint's note is not a signed note") }
        guard (try? parsed.verifiedText(by: key.noteVerifier)) != nil else { return .badCheckpointSignature(at, keyID: key.keyID) }
        let signed: AuditTreeHead
        do { signed = try AuditTreeHead(note: note, verifiedBy: key) } catch { return .invalidCheckpoint(at, error.message) }
        guard signed.size == head.sequence else {
            return .checkpointHeadMismatch(at, signed: AuditHead(sequence: signed.size, hash: head.hash), actual: head)
        }
        guard signed.time == event.time else { return .badCheckpointSignature(at, keyID: key.keyID) }
        guard let tree else { return nil }
        guard signed.root == tree.root else {
            return .checkpointRootMismatch(
                at, "the checkpoint signs a root that is not the Merkle root of the \(tree.size) events before it: the trail was rewritten")
        }
        guard edge == tree.edge else {
            return .checkpointRootMismatch(at, "the tree edge stored with the checkpoint is not that of the events before it")
        }
        return nil
    }
}
