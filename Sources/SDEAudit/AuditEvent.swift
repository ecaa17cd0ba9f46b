public import SDECommon

/// What an audit event records: an extensible, string-backed action name such as `query.run`.
///
/// ```swift
/// let custom: AuditAction = "release.withdrawn"
/// AuditAction.queryRun.rawValue   // "query.run"
/// ```
public struct AuditAction: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The dotted action name written to the trail.
    public let rawValue: String

    /// An action with the given name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// An action from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The action name.
    public var description: String { rawValue }

    /// A vetted query ran and its protected table was released.
    public static let queryRun: AuditAction = "query.run"
    /// A vetted query was refused (policy, approval, parameters).
    public static let queryDenied: AuditAction = "query.denied"
    /// A vetted query's definition or parameter schema was shown.
    public static let queryShow: AuditAction = "query.show"
    /// A request failed authentication (missing, unknown, expired or revoked token).
    public static let authFailed: AuditAction = "auth.failed"
    /// A regulator release was published.
    public static let releasePublish: AuditAction = "release.publish"
    /// A published release was read.
    public static let releaseRead: AuditAction = "release.read"
    /// The audit trail was searched, exported or verified.
    public static let auditRead: AuditAction = "audit.read"
    /// A policy set was loaded.
    public static let policyLoaded: AuditAction = "policy.loaded"
    /// A policy set was rejected at load (invalid, rolled back, or not checked against the accepted versions).
    public static let policyRejected: AuditAction = "policy.rejected"
    /// The first signed policy root a broker accepted was pinned (with its manifest version) in its database.
    public static let policyPinned: AuditAction = "policy.pinned"
    /// An API token was issued (the event names the user and token id, never the token).
    public static let tokenIssued: AuditAction = "token.issued"
    /// An API token was revoked.
    public static let tokenRevoked: AuditAction = "token.revoked"
    /// An extract was ingested.
    public static let dataIngested: AuditAction = "data.ingested"
    /// A signed checkpoint of the chain head; only ``AuditChain`` writes it.
    public static let auditCheckpoint: AuditAction = "audit.checkpoint"
}

/// How a request ended.
public enum AuditOutcome: String, Sendable, Hashable, CaseIterable {
    /// The request was served.
    case allowed
    /// The request was refused by policy or authentication.
    case denied
    /// The request failed; nothing was released.
    case error
}

/// How many cells of a protected table were released and how many each disclosure rule suppressed.
///
/// ```swift
/// let cells = AuditCellCounts(released: 40, suppressed: ["threshold": 3, "secondary": 2])
/// cells.suppressedTotal   // 5
/// ```
public struct AuditCellCounts: Sendable, Hashable {
    /// Cells released (as is or rounded).
    public let released: Int
    /// Suppressed cells by the rule that fired (`threshold`, `dominance`, `secondary`, ...).
    public let suppressed: [String: Int]

    /// No cells: events that release no table.
    public static let none = AuditCellCounts(released: 0, suppressed: [:])

    /// Counts of released and suppressed cells.
    public init(released: Int, suppressed: [String: Int] = [:]) {
        self.released = released
        self.suppressed = suppressed
    }

    /// All suppressed cells, whatever the rule.
    public var suppressedTotal: Int { suppressed.values.reduce(0, +) }
}

/// What an `audit.checkpoint` event carries: the head it covers and the broker's signature of it.
///
/// Checkpoints are signed tree heads: ``note`` is a C2SP checkpoint (``AuditTreeHead``) of the Merkle tree of every
/// event up to and including ``head``, and ``treeEdge`` is that tree's right edge, from which the trail continues the
/// tree after a restart. Rewriting any event at or before ``head`` changes the root the note signs.
///
/// Trails written before signed tree heads carry format-1 checkpoints instead: ``signature`` is an Ed25519 signature of
/// ``signedMessage(head:time:)``, and there is no note. Both are verified; only signed tree heads anchor the Merkle
/// tree that witnesses hold.
public struct AuditCheckpoint: Sendable, Hashable {
    /// The head that was signed: the event immediately before the checkpoint.
    public let head: AuditHead
    /// ``AuditPublicKey/keyID`` of the signing key.
    public let keyID: String
    /// Format 1: the 64-byte Ed25519 signature over ``signedMessage(head:time:)``; empty on signed tree heads.
    public let signature: [UInt8]
    /// The signed checkpoint note of events 1...``head``'s sequence (see ``AuditTreeHead``); `nil` on format 1.
    public let note: String?
    /// The right edge of the Merkle tree of events 1...``head``'s sequence (``AuditMerkleTree/edge``); empty on format 1.
    public let treeEdge: [AuditDigest]

    /// A format-1 checkpoint as stored (from a database row).
    public init(head: AuditHead, keyID: String, signature: [UInt8]) {
        self.head = head
        self.keyID = keyID
        self.signature = signature
        self.note = nil
        self.treeEdge = []
    }

    /// A signed tree head as stored; ``AuditChain`` makes new ones.
    public init(head: AuditHead, keyID: String, note: String, treeEdge: [AuditDigest]) {
        self.head = head
        self.keyID = keyID
        self.signature = []
        self.note = note
        self.treeEdge = treeEdge
    }

    /// Whether this is a signed tree head (not a format-1 checkpoint).
    public var isTreeHead: Bool { note != nil }

    /// The checkpoint as the `checkpoint` member of an event's canonical JSON.
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["head_sequence": .int(head.sequence), "head_hash": .string(head.hash.hex), "key_id": .string(keyID)]
        if let note {
            object["note"] = .string(note)
            object["tree_edge"] = .array(treeEdge.map { .string($0.hex) })
        } else {
            object["signature"] = .string(Hex.encode(signature))
        }
        return .object(object)
    }

    /// The exact bytes a format-1 checkpoint signs: `sde-audit-checkpoint/1\n<head sequence>\n<head hash hex>\n<checkpoint time>`.
    ///
    /// An auditor can check a checkpoint with OpenSSL alone:
    /// `openssl pkeyutl -verify -pubin -inkey broker.pub.pem -rawin -in message -sigfile signature`.
    public static func signedMessage(head: AuditHead, time: AuditTimestamp) -> [UInt8] {
        Array("sde-audit-checkpoint/1\n\(head.sequence)\n\(head.hash.hex)\n\(time)".utf8)
    }
}

/// The content of an audit event before the chain gives it a sequence number, time and hashes.
///
/// The initialiser enforces what may be written, so that record-level values and secrets have no place to go:
/// identifiers (actor, role, project, target) are single printable ASCII words of at most 128 bytes; the reason
/// is a short lower-case code (`project_suspended`), never a message; parameters are the vetted query's validated
/// parameter values only (names of at most 64 bytes, values of at most 256 bytes without control characters, at
/// most 64 of them), never rows, SQL or tokens; an output digest is allowed only for an `allowed` outcome; and
/// `audit.checkpoint` is reserved for ``AuditChain``.
///
/// ```swift
/// let draft = try AuditEventDraft(
///     actor: "u.khan", role: "researcher", project: "P2026-003", action: .queryRun, target: "requests-by-la-quarter",
///     parameters: ["from": "2023Q2", "to": "2024Q1"], policyDigest: policyDigest, outcome: .allowed,
///     cells: AuditCellCounts(released: 40, suppressed: ["threshold": 3]), outputDigest: .sha256(of: body))
/// ```
public struct AuditEventDraft: Sendable, Hashable {
    /// The authenticated user id, or ``anonymousActor`` when authentication failed.
    public let actor: String
    /// The role the actor acted in; `nil` when unauthenticated.
    public let role: String?
    /// The project the request was made under.
    public let project: String?
    /// What was done.
    public let action: AuditAction
    /// The vetted query id, release id or other object acted on.
    public let target: String?
    /// The vetted query's validated parameter values.
    public let parameters: [String: String]
    /// Digest of the policy set in force.
    public let policyDigest: AuditDigest?
    /// How the request ended.
    public let outcome: AuditOutcome
    /// A machine-readable reason code, e.g. `project_suspended`.
    public let reason: String?
    /// Cells released and suppressed.
    public let cells: AuditCellCounts
    /// SHA-256 of the exact bytes released.
    public let outputDigest: AuditDigest?

    /// The actor of events for requests that did not authenticate.
    public static let anonymousActor = "anonymous"
    /// The actor of events the broker writes on its own behalf, such as checkpoints.
    public static let brokerActor = "sde-broker"

    /// A validated draft; throws ``AuditError/Code/invalidField`` when a field breaks the rules above.
    public init(
        actor: String, role: String?, project: String? = nil, action: AuditAction, target: String? = nil,
        parameters: [String: String] = [:], policyDigest: AuditDigest? = nil, outcome: AuditOutcome, reason: String? = nil,
        cells: AuditCellCounts = .none, outputDigest: AuditDigest? = nil
    ) throws(AuditError) {
        try AuditEventDraft.checkWord(actor, "actor")
        try role.map { (role) throws(AuditError) in try AuditEventDraft.checkWord(role, "role") }
        try project.map { (project) throws(AuditError) in try AuditEventDraft.checkWord(project, "project") }
        try target.map { (target) throws(AuditError) in try AuditEventDraft.checkWord(target, "target") }
        try AuditEventDraft.checkCode(action.rawValue, "action")
        guard action != .auditCheckpoint else { throw .invalidField("action", "audit.checkpoint is written by AuditChain only") }
        try reason.map { (reason) throws(AuditError) in try AuditEventDraft.checkCode(reason, "reason") }
        guard parameters.count <= 64 else { throw .invalidField("parameters", "more than 64 parameters") }
        for (name, value) in parameters {
            try AuditEventDraft.checkName(name, "parameter name")
            guard value.utf8.count <= 256 else { throw .invalidField("parameters.\(name)", "value longer than 256 bytes") }
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .invalidField("parameters.\(name)", "value contains a control character")
            }
        }
        guard cells.released >= 0 else { throw .invalidField("cells.released", "negative") }
        for (rule, count) in cells.suppressed {
            try AuditEventDraft.checkCode(rule, "cells.suppressed rule")
            guard count >= 0 else { throw .invalidField("cells.suppressed.\(rule)", "negative") }
        }
        guard outputDigest == nil || outcome == .allowed else {
            throw .invalidField("output_sha256", "only an allowed request releases output")
        }
        self.actor = actor
        self.role = role
        self.project = project
        self.action = action
        self.target = target
        self.parameters = parameters
        self.policyDigest = policyDigest
        self.outcome = outcome
        self.reason = reason
        self.cells = cells
        self.outputDigest = outputDigest
    }

    /// `text` when it may be written as an identifier (1 to 128 printable ASCII characters without spaces), else `nil`:
    /// for names a caller typed, which are recorded only when they are plain identifiers.
    public static func identifier(_ text: String) -> String? {
        (1...128).contains(text.utf8.count) && text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) ? text : nil
    }

    /// 1 to 128 printable ASCII characters without spaces.
    private static func checkWord(_ value: String, _ field: String) throws(AuditError) {
        guard identifier(value) != nil else {
            throw .invalidField(field, "must be 1 to 128 printable ASCII characters without spaces")
        }
    }

    /// 1 to 64 characters from `a-z 0-9 . _ -`.
    private static func checkCode(_ value: String, _ field: String) throws(AuditError) {
        guard (1...64).contains(value.utf8.count),
            value.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else { throw .invalidField(field, "must be 1 to 64 characters from a-z 0-9 . _ -") }
    }

    /// 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
    private static func checkName(_ value: String, _ field: String) throws(AuditError) {
        guard (1...64).contains(value.utf8.count),
            value.utf8.allSatisfy({
                ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
            })
        else { throw .invalidField(field, "must be 1 to 64 characters from A-Z a-z 0-9 . _ -") }
    }
}

/// One sealed link of the audit chain.
///
/// Events are made by ``AuditChain`` (new events), ``AuditJSONL/decode(_:)`` (the mirror) or the memberwise
/// initialiser (database rows). Only ``AuditVerifier`` decides whether an event is genuine.
///
/// The canonical encoding is ``jsonValue(includingHash:)``'s canonical bytes: snake_case keys in byte order, every
/// key always present (`null` when absent), plus `"version":1`. The hash is
/// `SHA-256(prev_hash as 64 hex ASCII || "\n" || canonical encoding without the "hash" key)`; see ``hashInput``.
public struct AuditEvent: Sendable, Hashable {
    /// Position in the chain, from 1, without gaps.
    public let sequence: Int64
    /// When the event was sealed (UTC, milliseconds).
    public let time: AuditTimestamp
    /// The user id, ``AuditEventDraft/anonymousActor`` or ``AuditEventDraft/brokerActor``.
    public let actor: String
    /// The role the actor acted in.
    public let role: String?
    /// The project of the request.
    public let project: String?
    /// What was done.
    public let action: AuditAction
    /// The object acted on (vetted query id, release id).
    public let target: String?
    /// The vetted query's parameter values.
    public let parameters: [String: String]
    /// Digest of the policy set in force.
    public let policyDigest: AuditDigest?
    /// How the request ended.
    public let outcome: AuditOutcome
    /// Machine-readable reason code.
    public let reason: String?
    /// Cells released and suppressed by rule.
    public let cells: AuditCellCounts
    /// SHA-256 of the exact bytes released.
    public let outputDigest: AuditDigest?
    /// The signed head, on `audit.checkpoint` events only.
    public let checkpoint: AuditCheckpoint?
    /// Hash of the previous event (``AuditDigest/zero`` for sequence 1).
    public let prevHash: AuditDigest
    /// This event's hash as stored.
    public let hash: AuditDigest

    /// The format version written as `"version"`; the decoder accepts only this one.
    public static let formatVersion: Int64 = 1

    /// An event exactly as stored, e.g. from a database row; nothing is checked here.
    public init(
        sequence: Int64, time: AuditTimestamp, actor: String, role: String?, project: String?, action: AuditAction, target: String?,
        parameters: [String: String], policyDigest: AuditDigest?, outcome: AuditOutcome, reason: String?, cells: AuditCellCounts,
        outputDigest: AuditDigest?, checkpoint: AuditCheckpoint?, prevHash: AuditDigest, hash: AuditDigest
    ) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.role = role
        self.project = project
        self.action = action
        self.target = target
        self.parameters = parameters
        self.policyDigest = policyDigest
        self.outcome = outcome
        self.reason = reason
        self.cells = cells
        self.outputDigest = outputDigest
        self.checkpoint = checkpoint
        self.prevHash = prevHash
        self.hash = hash
    }

    /// This event's head: its sequence and stored hash.
    public var head: AuditHead { AuditHead(sequence: sequence, hash: hash) }

    /// The normative canonical form. `includingHash: false` gives the object that is hashed.
    public func jsonValue(includingHash: Bool = true) -> JSONValue {
        func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        func optional(_ d: AuditDigest?) -> JSONValue { d.map { .string($0.hex) } ?? .null }
        var object: [String: JSONValue] = [
            "sequence": .int(sequence),
            "time": .string(time.description),
            "actor": .string(actor),
            "role": optional(role),
            "project": optional(project),
            "action": .string(action.rawValue),
            "target": optional(target),
            "parameters": .object(parameters.mapValues { .string($0) }),
            "policy_digest": optional(policyDigest),
            "outcome": .string(outcome.rawValue),
            "reason": optional(reason),
            "cells_released": .int(Int64(cells.released)),
            "cells_suppressed": .object(cells.suppressed.mapValues { .int(Int64($0)) }),
            "output_sha256": optional(outputDigest),
            "checkpoint": checkpoint?.jsonValue ?? .null,
            "prev_hash": .string(prevHash.hex),
            "version": .int(AuditEvent.formatVersion),
        ]
        if includingHash { object["hash"] = .string(hash.hex) }
        return .object(object)
    }

    /// The bytes whose SHA-256 is the event's hash: `prev_hash` hex, a line feed, then the canonical
    /// encoding of every field except `hash`.
    public var hashInput: [UInt8] {
        var encoder = AuditEncoder()
        return encoder.hashInput(of: self)
    }

    /// The hash recomputed from the fields; equals ``hash`` for an untouched event.
    public var computedHash: AuditDigest {
        var encoder = AuditEncoder()
        return encoder.hash(of: self)
    }
}
