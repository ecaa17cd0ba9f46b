/// How far apart the trail's checkpoints may be: at most ``maxEvents`` ordinary events between two checkpoints, and no
/// ordinary event sealed more than ``maxSeconds`` after the first one a checkpoint does not yet cover.
///
/// Each checkpoint records the policy it was written under, inside its signed note, and the verifier holds the gap
/// after it to that policy; no recorded policy may be looser than ``ceiling``, which is fixed here in the code; and
/// before the first checkpoint the verifier holds the trail to the policy it is configured with (the broker's, known
/// out of band). So nobody can loosen the bound for past events without the signing key: not by editing the
/// database, which holds no policy, nor by deleting checkpoints, whose absence is the gap.
///
/// ```swift
/// let policy = try AuditCheckpointPolicy(maxEvents: 1000, maxSeconds: 60)
/// policy.description   // "max-gap 1000 events 60 seconds", the checkpoint's extension line
/// ```
public struct AuditCheckpointPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The most ordinary events between two checkpoints.
    public let maxEvents: Int
    /// The longest an ordinary event may wait for a checkpoint, in seconds.
    public let maxSeconds: Int

    /// 1,000 events or 60 seconds, whichever comes first.
    public static let `default` = AuditCheckpointPolicy(unchecked: 1000, 60)
    /// The loosest policy a checkpoint may record, and the one that holds before the first checkpoint: 10,000
    /// events or an hour.
    public static let ceiling = AuditCheckpointPolicy(unchecked: 10_000, 3600)

    /// A policy; throws ``AuditError/Code/invalidField`` unless both bounds are from 1 up to ``ceiling``'s.
    public init(maxEvents: Int, maxSeconds: Int) throws(AuditError) {
        guard (1...Self.ceiling.maxEvents).contains(maxEvents) else {
            throw .invalidField("checkpoint events", "must be from 1 to \(Self.ceiling.maxEvents)")
        }
        guard (1...Self.ceiling.maxSeconds).contains(maxSeconds) else {
            throw .invalidField("checkpoint seconds", "must be from 1 to \(Self.ceiling.maxSeconds)")
        }
        self.init(unchecked: maxEvents, maxSeconds)
    }

    private init(unchecked maxEvents: Int, _ maxSeconds: Int) {
        self.maxEvents = maxEvents
        self.maxSeconds = maxSeconds
    }

    /// The extension line of checkpoints: `max-gap <events> events <seconds> seconds`.
    public var description: String { "max-gap \(maxEvents) events \(maxSeconds) seconds" }

    /// The longest wait in milliseconds.
    var maxMilliseconds: Int64 { Int64(maxSeconds) * 1000 }

    /// Reads an extension line written by ``description``.
    init?(line: Substring) {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 5, words[0] == "max-gap", words[2] == "events", words[4] == "seconds",
            let events = AuditTreeHead.canonicalInteger(words[1]), let seconds = AuditTreeHead.canonicalInteger(words[3]),
            let policy = try? AuditCheckpointPolicy(maxEvents: Int(events), maxSeconds: Int(seconds))
        else { return nil }
        self = policy
    }
}

/// A signed checkpoint of the trail's Merkle tree in the C2SP tlog-checkpoint format: a signed note whose text is the
/// origin, the tree size, the base64 root hash, and two extension lines, the time and the gap policy:
///
/// ```
/// sde-broker/audit/3f2a9c0d1e4b5a68
/// 1234
/// CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
/// time 2026-11-26T14:03:07.123Z
/// max-gap 1000 events 60 seconds
///
/// — sde-broker/audit/3f2a9c0d1e4b5a68 Az3grlgt...
/// ```
///
/// The origin and the key name are the broker key's ``AuditPublicKey/noteName``. The tree's leaves are the events'
/// canonical JSONL lines, so the size is the sequence number of the last event covered. This is the file a witness
/// keeps and `audit verify --against` reads.
///
/// ```swift
/// let head = try AuditTreeHead(note: text, verifiedBy: brokerKey)
/// print(head.size, head.root)
/// ```
public struct AuditTreeHead: Sendable, Hashable, CustomStringConvertible {
    /// The log's identity: the signing key's ``AuditPublicKey/noteName``.
    public let origin: String
    /// How many events the tree holds (the sequence number of the last one).
    public let size: Int64
    /// The RFC 6962 root hash of events 1...size.
    public let root: AuditDigest
    /// When the checkpoint was sealed (the time of its `audit.checkpoint` event).
    public let time: AuditTimestamp
    /// The gap policy the checkpoint was written under; it bounds the gap to the next checkpoint.
    public let policy: AuditCheckpointPolicy
    /// The signed note.
    public let note: AuditSignedNote

    /// Signs a checkpoint of the tree of `size` events with root `root` at `time` under `policy`.
    static func signing(
        size: Int64, root: AuditDigest, time: AuditTimestamp, policy: AuditCheckpointPolicy, key: AuditSigningKey
    ) throws(AuditError) -> AuditTreeHead {
        let origin = key.publicKey.noteName
        let text = "\(origin)\n\(size)\n\(Base64.encode(root.bytes))\ntime \(time)\n\(policy)\n"
        let note = try AuditSignedNote.signing(text, with: key, name: origin)
        return AuditTreeHead(origin: origin, size: size, root: root, time: time, policy: policy, note: note)
    }

    private init(origin: String, size: Int64, root: AuditDigest, time: AuditTimestamp, policy: AuditCheckpointPolicy, note: AuditSignedNote) {
        self.origin = origin
        self.size = size
        self.root = root
        self.time = time
        self.policy = policy
        self.note = note
    }

    /// Reads a checkpoint note and checks it: signed by `key` (under its ``AuditPublicKey/noteName``), whose name
    /// is also the origin, and exactly the five lines above. Throws ``AuditError/Code/invalidCheckpoint`` otherwise.
    public init(note text: some StringProtocol, verifiedBy key: AuditPublicKey) throws(AuditError) {
        let note = try AuditSignedNote(parsing: text)
        let body = try note.verifiedText(by: key.noteVerifier)
        let lines = body.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 5 else { throw .invalidCheckpoint("a checkpoint has five lines: origin, size, root, time and max-gap") }
        guard lines[0] == key.noteName else { throw .invalidCheckpoint("the checkpoint's origin is \(lines[0]), not \(key.noteName)") }
        guard let size = Self.canonicalInteger(lines[1]) else { throw .invalidCheckpoint("the tree size is not a canonical number") }
        guard let rootBytes = Base64.decode(lines[2]), let root = AuditDigest(bytes: rootBytes) else {
            throw .invalidCheckpoint("the root hash is not 32 bytes of base64")
        }
        guard lines[3].hasPrefix("time "), let time = AuditTimestamp(rfc3339: lines[3].dropFirst(5)) else {
            throw .invalidCheckpoint("the fourth line is 'time <YYYY-MM-DDTHH:MM:SS.mmmZ>'")
        }
        guard let policy = AuditCheckpointPolicy(line: lines[4]) else {
            throw .invalidCheckpoint("the fifth line is 'max-gap <events> events <seconds> seconds' within \(AuditCheckpointPolicy.ceiling)")
        }
        self.init(origin: String(lines[0]), size: size, root: root, time: time, policy: policy, note: note)
    }

    /// The signed note as text, the form a witness stores.
    public var description: String { note.description }

    /// Checks, as a witness does, that this checkpoint's tree extends the tree of `held` (a checkpoint of the same log
    /// the witness kept), given the consistency proof between their sizes; throws ``AuditError/Code/inconsistentTree``
    /// when it does not: the trail was rewritten, or cut back, since `held` was signed.
    ///
    /// ```swift
    /// let proof = try AuditMerkle.consistencyProof(from: Int(held.size), leafHashes: trailLeafHashes[..<Int(latest.size)])
    /// try latest.checkExtends(held, proof: proof)    // then keep `latest` instead of `held`
    /// ```
    public func checkExtends(_ held: AuditTreeHead, proof: [AuditDigest]) throws(AuditError) {
        guard origin == held.origin else { throw .inconsistentTree("the checkpoints are of two logs (\(held.origin) and \(origin))") }
        guard size >= held.size else {
            throw .inconsistentTree(
                "the latest checkpoint covers \(size) events, fewer than the \(held.size) of the one held: events were removed from the end")
        }
        guard AuditMerkle.verifyConsistency(oldSize: held.size, oldRoot: held.root, newSize: size, newRoot: root, proof: proof) else {
            throw .inconsistentTree(
                "the checkpoint of \(size) events does not extend the one of \(held.size) events that is held: the trail was rewritten")
        }
    }

    /// The policy line of a checkpoint note, read without checking its signature (for the chain's own bookkeeping;
    /// the verifier checks the signature), or `nil`.
    static func recordedPolicy(note: String) -> AuditCheckpointPolicy? {
        guard let parsed = try? AuditSignedNote(parsing: note) else { return nil }
        let lines = parsed.text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        return lines.count == 5 ? AuditCheckpointPolicy(line: lines[4]) : nil
    }

    /// A non-negative decimal without leading zeros.
    static func canonicalInteger(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text == "0" || text.first != "0", let value = Int64(text) else {
            return nil
        }
        return value
    }
}
