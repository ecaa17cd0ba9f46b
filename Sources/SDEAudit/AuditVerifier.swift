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
        /// The chain ends before a head recorded elsewhere.
        public static let truncated = Kind(.truncated)

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
    /// The first broken event, or `nil` when the chain is intact.
    public let failure: AuditVerificationFailure?

    /// Whether no damage was found.
    public var isIntact: Bool { failure == nil }

    /// One line for the CLI.
    public var description: String {
        let counts = "\(events) events, \(checkpoints) checkpoints, head \(head), \(eventsAfterLastCheckpoint) after the last checkpoint"
        guard let failure else { return "intact: \(counts)" }
        return "broken: \(failure) (verified before it: \(counts))"
    }
}

/// Streaming verifier of one chain, fed in order from the database or the JSONL mirror.
///
/// For every event it checks, in this order: the stored hash against the fields; the sequence number (next one,
/// no gap, no repeat); `prev_hash` against the previous event's hash; for checkpoints, that the signed head is
/// the previous event and that the signature verifies with a trusted key; optionally that checkpoints come at
/// least every `maximumCheckpointInterval` events; and that events agree with heads recorded elsewhere.
/// It stops at the first failure. A rewrite of the chain from some event on, with every hash recomputed, is
/// caught at the first checkpoint after that event; the tail after the last checkpoint is protected only by
/// `expectedHeads` (e.g. the other store's head or a head noted by an auditor) and by comparing the two stores.
///
/// ```swift
/// var verifier = AuditVerifier(trustedKeys: [brokerPublicKey])
/// for (number, line) in lines.enumerated() { guard verifier.consume(line: line, lineNumber: number + 1) else { break } }
/// print(verifier.report)   // intact: 1000000 events, ...
/// ```
public struct AuditVerifier: Sendable {
    private let trustedKeys: [String: AuditPublicKey]
    private let expectedHeads: [AuditHead]
    private let maximumCheckpointInterval: Int?
    private var nextExpectedHead = 0
    private var head: AuditHead
    private var position = 0
    private var events = 0
    private var checkpoints = 0
    private var lastSignedHead: AuditHead?
    private var eventsAfterLastCheckpoint = 0
    private var failure: AuditVerificationFailure?
    private var encoder = AuditEncoder()

    /// A verifier for the events after `start` (genesis for a whole chain).
    ///
    /// - Parameters:
    ///   - trustedKeys: public keys whose checkpoints are accepted; a checkpoint by any other key is a failure.
    ///   - start: the head the first event must follow, for verifying only what was appended since.
    ///   - expectedHeads: heads recorded elsewhere; the chain must contain each (those at or before `start` are not checked).
    ///   - maximumCheckpointInterval: when set, more than this many events in a row without a checkpoint is a failure.
    public init(
        trustedKeys: [AuditPublicKey], startingAfter start: AuditHead = .genesis, expectedHeads: [AuditHead] = [],
        maximumCheckpointInterval: Int? = nil
    ) {
        self.trustedKeys = Dictionary(trustedKeys.map { ($0.keyID, $0) }, uniquingKeysWith: { first, _ in first })
        self.expectedHeads = expectedHeads.filter { $0.sequence > start.sequence }.sorted { $0.sequence < $1.sequence }
        self.maximumCheckpointInterval = maximumCheckpointInterval
        self.head = start
    }

    /// Whether no damage has been found so far.
    public var isIntact: Bool { failure == nil }

    /// The result so far; a chain that ends before an expected head is reported as truncated.
    public var report: AuditVerificationReport {
        var failure = self.failure
        if failure == nil, nextExpectedHead < expectedHeads.count {
            failure = .truncated(last: head, expected: expectedHeads[nextExpectedHead])
        }
        return AuditVerificationReport(
            events: events, checkpoints: checkpoints, head: head, lastSignedHead: lastSignedHead,
            eventsAfterLastCheckpoint: eventsAfterLastCheckpoint, failure: failure)
    }

    /// Checks the next event (e.g. a database row); returns `false` once the chain is broken.
    @discardableResult
    public mutating func consume(_ event: AuditEvent) -> Bool {
        guard failure == nil else { return false }
        position += 1
        return check(event, computedHash: encoder.hash(of: event), lineNumber: nil)
    }

    /// Decodes and checks the next JSONL line (without its newline); returns `false` once the chain is broken.
    @discardableResult
    public mutating func consume<Bytes: Collection>(line: Bytes, lineNumber: Int) -> Bool where Bytes.Element == UInt8 {
        guard failure == nil else { return false }
        position += 1
        do {
            let (event, computedHash) = try AuditJSONL.decode(line, encoder: &encoder)
            return check(event, computedHash: computedHash, lineNumber: lineNumber)
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

    private mutating func check(_ event: AuditEvent, computedHash: AuditDigest, lineNumber: Int?) -> Bool {
        let at = AuditVerificationFailure.Place(position: position, sequence: event.sequence, lineNumber: lineNumber)
        failure = damage(in: event, computedHash: computedHash, at: at)
        guard failure == nil else { return false }
        if let checkpoint = event.checkpoint {
            checkpoints += 1
            lastSignedHead = checkpoint.head
            eventsAfterLastCheckpoint = 0
        } else {
            eventsAfterLastCheckpoint += 1
        }
        while nextExpectedHead < expectedHeads.count, expectedHeads[nextExpectedHead].sequence == event.sequence { nextExpectedHead += 1 }
        head = event.head
        events += 1
        return true
    }

    private func damage(in event: AuditEvent, computedHash: AuditDigest, at: AuditVerificationFailure.Place) -> AuditVerificationFailure? {
        guard computedHash == event.hash else { return .hashMismatch(at, stored: event.hash, computed: computedHash) }
        let expected = head.sequence + 1
        guard event.sequence <= expected else { return .sequenceGap(at, expected: expected) }
        guard event.sequence == expected else { return .sequenceDuplicate(at, expected: expected) }
        guard event.prevHash == head.hash else { return .prevHashMismatch(at, previous: head) }
        switch (event.action == .auditCheckpoint, event.checkpoint) {
        case (true, let checkpoint?):
            guard checkpoint.head == head else { return .checkpointHeadMismatch(at, signed: checkpoint.head, actual: head) }
            guard let key = trustedKeys[checkpoint.keyID] else { return .unknownCheckpointKey(at, keyID: checkpoint.keyID) }
            guard key.isValidSignature(checkpoint.signature, for: AuditCheckpoint.signedMessage(head: checkpoint.head, time: event.time)) else {
                return .badCheckpointSignature(at, keyID: checkpoint.keyID)
            }
        case (true, nil):
            return .invalidCheckpoint(at, "audit.checkpoint event without checkpoint fields")
        case (false, .some):
            return .invalidCheckpoint(at, "checkpoint fields on a \(event.action) event")
        case (false, nil):
            if let interval = maximumCheckpointInterval, eventsAfterLastCheckpoint + 1 > interval {
                return .checkpointMissing(at, interval: interval)
            }
        }
        var i = nextExpectedHead
        while i < expectedHeads.count, expectedHeads[i].sequence == event.sequence {
            guard expectedHeads[i].hash == event.hash else { return .expectedHeadMismatch(at, expected: expectedHeads[i].hash, found: event.hash) }
            i += 1
        }
        return nil
    }
}
