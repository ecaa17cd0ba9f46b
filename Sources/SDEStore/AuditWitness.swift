import Foundation
public import SDEAudit

/// A witness's copy of the trail's head, in a directory of its own (the IG team's, outside the broker's state folder
/// and away from its database): `audit-key.vkey`, the broker's verifier key pinned at the witness's first run, and
/// `checkpoint`, the latest signed checkpoint the witness accepted (a C2SP checkpoint note, the file that
/// `audit verify --against` reads).
///
/// ```swift
/// let report = try await AuditWitness.run(db, directory: AuditWitness(directory: "/ig/witness"), key: configuredKey)
/// print(report)   // "accepted the checkpoint of 1234 events (it extends the one of 1000 held before)"
/// ```
public struct AuditWitness: Sendable {
    /// The witness's directory.
    public let directory: String

    /// A witness keeping its files in `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// The broker's key pinned at the witness's first run.
    public var keyPath: String { directory + "/audit-key.vkey" }
    /// The latest checkpoint the witness accepted.
    public var checkpointPath: String { directory + "/checkpoint" }

    /// What one run of the witness did.
    public struct Report: Sendable, CustomStringConvertible {
        /// The checkpoint held before, if any.
        public let previous: AuditTreeHead?
        /// The checkpoint now held.
        public let latest: AuditTreeHead

        /// One line for the CLI.
        public var description: String {
            let root = latest.note.text.split(separator: "\n")[2]
            guard let previous else { return "accepted the first checkpoint: \(latest.size) events, root \(root), \(latest.time)" }
            if previous.size == latest.size { return "the trail has not moved since the checkpoint held: \(latest.size) events, root \(root)" }
            return
                "accepted the checkpoint of \(latest.size) events (root \(root), \(latest.time)): it extends the one of \(previous.size) events held before"
        }
    }

    /// The key the witness pinned, if it ran before.
    public func pinnedKey() throws -> AuditPublicKey? {
        guard let data = FileManager.default.contents(atPath: keyPath) else { return nil }
        do { return try AuditPublicKey(pemOrVerifierKey: String(decoding: data, as: UTF8.self)) } catch {
            throw StoreError.io("\(keyPath) is not a verifier key")
        }
    }

    /// The checkpoint the witness holds, checked against `key`.
    public func held(verifiedBy key: AuditPublicKey) throws -> AuditTreeHead? {
        guard let data = FileManager.default.contents(atPath: checkpointPath) else { return nil }
        do { return try AuditTreeHead(note: String(decoding: data, as: UTF8.self), verifiedBy: key) } catch {
            throw StoreError.io("the checkpoint the witness holds (\(checkpointPath)) does not verify with its key: \(error.message)")
        }
    }

    /// Reads a checkpoint file (a checkpoint note, or its base64 as the `SDE-Audit-Checkpoint` header of a release
    /// carries it) and checks it is signed by `key`.
    /// - Throws: ``StoreError`` when the file cannot be read; `AuditError` (`invalid_checkpoint`) when it is not a
    ///   checkpoint signed by `key`.
    public static func checkpoint(at path: String, verifiedBy key: AuditPublicKey) throws -> AuditTreeHead {
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.io("cannot read the checkpoint \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.contains("\n"), let decoded = Data(base64Encoded: trimmed) {
            return try AuditTreeHead(note: String(decoding: decoded, as: UTF8.self), verifiedBy: key)
        }
        return try AuditTreeHead(note: text, verifiedBy: key)
    }

    /// Fetches the trail's latest signed checkpoint from `db`, checks it is signed by the witness's key (pinned at the
    /// first run from `key`, which must match it afterwards) and, when the witness holds a checkpoint, that the new one
    /// extends it (by a consistency proof computed from the trail and checked against the held root alone); then keeps
    /// it instead of the old one.
    /// - Throws: `AuditError` with code `inconsistent_tree` when the trail was rewritten or cut since the held
    ///   checkpoint, or `invalid_checkpoint` when the latest checkpoint is not signed by the pinned key (nothing is
    ///   stored then: the witness keeps what it had); ``StoreError`` when a file or the database cannot be read.
    public static func run(_ db: DatabaseSession, directory witness: AuditWitness, key configured: AuditPublicKey?) async throws -> Report {
        let pinned = try witness.pinnedKey()
        if let pinned, let configured, pinned != configured {
            throw StoreError.invalidArgument("the witness pinned \(pinned) at its first run, not the configured \(configured): it keeps its own")
        }
        guard let key = pinned ?? configured else {
            throw StoreError.invalidArgument(
                "the witness has no key yet: give it the broker's audit public key (--audit-public-key FILE or SDE_AUDIT_PUBLIC_KEY) on its first run"
            )
        }
        let held = try witness.held(verifiedBy: key)
        let tree = try await AuditEvents.tree(in: db)
        guard let note = tree.lastCheckpoint else { throw StoreError.auditUnavailable("the audit trail has no signed checkpoint yet") }
        let latest = try AuditTreeHead(note: note, verifiedBy: key)
        guard latest.size <= tree.leafHashes.count else {
            throw StoreError.auditUnavailable("the latest checkpoint covers more events than the trail holds: run `sde-broker audit verify`")
        }
        if let held {
            let proof =
                held.size <= latest.size
                ? try AuditMerkle.consistencyProof(from: Int(held.size), leafHashes: tree.leafHashes[..<Int(latest.size)]) : []
            try latest.checkExtends(held, proof: proof)
        }
        do {
            try FileManager.default.createDirectory(atPath: witness.directory, withIntermediateDirectories: true)
            if pinned == nil {
                try Data((key.noteVerifier.description + "\n").utf8).write(to: URL(fileURLWithPath: witness.keyPath), options: .atomic)
            }
            try Data(latest.description.utf8).write(to: URL(fileURLWithPath: witness.checkpointPath), options: .atomic)
        } catch {
            throw StoreError.io("cannot write the witness's files in \(witness.directory)")
        }
        return Report(previous: held, latest: latest)
    }
}
