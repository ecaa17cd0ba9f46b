import Foundation
public import Logging
import PostgresNIO
public import SDEAudit
import SDECommon

/// The tamper-evident audit trail in the path of every release: one hash chain, written to `broker.audit_event` and to
/// the JSONL mirror, committed before anything leaves.
///
/// Appends are serialised by the actor, so concurrent requests never fork the chain. Requests that arrive while a
/// write is in flight are committed together in the next write (group commit): one mirror fsync and one database
/// commit for the whole group, and each caller resumes only after both. If either store fails, the mirror is cut back,
/// the head does not move, and every caller of that group gets an `auditUnavailable` error.
///
/// Checkpoints are signed tree heads (``AuditTreeHead``) at a bounded gap: one comes before any event that would make
/// more than the policy's events, or an event more than its seconds after the first one not yet covered (see
/// ``AuditChain/isCheckpointDue(at:policy:)``); a timer writes one when that many seconds pass with no event to carry
/// it; and ``close()`` writes one. The signing key must be the one pinned in `broker.audit_key` at the first start (and
/// the one configured, if any): a trail refuses to open with another.
///
/// ```swift
/// let trail = try await AuditTrail.open(database: config, mirrorDirectory: "AuditLogs", signingKey: key, logger: logger)
/// let (event, bytes) = try await trail.recordOutput(tableBytes) { digest in try draft(outputDigest: digest) }
/// // only now may `bytes` be sent
/// ```
public actor AuditTrail {
    private struct Waiter {
        /// The event to record; nil asks for a signed checkpoint, which must be chained like any other event.
        let draft: AuditEventDraft?
        let continuation: CheckedContinuation<AuditEvent, any Error>
    }

    private let config: DatabaseConfig
    private let mirror: AuditMirror
    private let signingKey: AuditSigningKey
    private let policy: AuditCheckpointPolicy
    private let writeTimeout: Duration
    private let logger: Logger
    private var db: DatabaseSession?
    /// A reconnection in progress, which every caller awaits (the actor is re-entrant across awaits: two callers
    /// connecting at once would each open a connection, and one would be dropped unclosed).
    private var connecting: Task<DatabaseSession, any Error>?
    private var chain: AuditChain
    private var waiting: [Waiter] = []
    private var writing = false
    private var timer: Task<Void, Never>?
    private var closed = false

    private init(
        config: DatabaseConfig, db: DatabaseSession, mirror: AuditMirror, signingKey: AuditSigningKey, policy: AuditCheckpointPolicy,
        writeTimeout: Duration, chain: AuditChain, logger: Logger
    ) {
        self.config = config
        self.db = db
        self.mirror = mirror
        self.signingKey = signingKey
        self.policy = policy
        self.writeTimeout = writeTimeout
        self.chain = chain
        self.logger = logger
    }

    /// Opens the trail: connects as `sde_broker`, checks the signing key against the pinned one (pinning it on the
    /// first start), reads both stores' heads and refuses to start if they disagree, then resumes the chain (and its
    /// Merkle tree) after the last signed checkpoint.
    ///
    /// Events the mirror holds beyond the database's head were never committed (the broker stopped between the two
    /// writes) and so never released anything: they are cut from the mirror.
    /// - Parameters:
    ///   - checkpointInterval: the most events between two checkpoints (``AuditCheckpointPolicy/maxEvents``).
    ///   - checkpointPeriod: the longest an event waits for a checkpoint (``AuditCheckpointPolicy/maxSeconds``; whole seconds).
    ///   - pinnedKey: the verification key given in configuration, outside the state folder: the signing key must match it.
    ///   - writeTimeout: how long a database write may take before the trail gives up on it (and releases nothing).
    public static func open(
        database config: DatabaseConfig, mirrorDirectory: String, signingKey: AuditSigningKey, checkpointInterval: Int = 1000,
        checkpointPeriod: Duration = .seconds(60), pinnedKey: AuditPublicKey? = nil, writeTimeout: Duration = .seconds(10), logger: Logger
    ) async throws -> AuditTrail {
        let policy: AuditCheckpointPolicy
        do {
            policy = try AuditCheckpointPolicy(maxEvents: checkpointInterval, maxSeconds: Int(checkpointPeriod.components.seconds))
        } catch { throw StoreError.invalidArgument("audit checkpoints: \(error.message)") }
        if let pinnedKey, pinnedKey != signingKey.publicKey {
            throw StoreError.auditUnavailable(
                "the audit signing key (\(signingKey.publicKey)) is not the configured audit public key (\(pinnedKey)): refusing to sign with it")
        }
        let mirror = AuditMirror(directory: mirrorDirectory)
        do {
            try FileManager.default.createDirectory(atPath: mirrorDirectory, withIntermediateDirectories: true)
        } catch { throw StoreError.auditUnavailable("cannot create the audit mirror directory \(mirrorDirectory)") }
        let db = try await connect(config, logger: logger)
        do {
            try await pin(signingKey.publicKey, db)
            // Under the mirror's lock: another process's write in flight is neither mistaken for a torn tail nor cut.
            let head = try await mirror.withLock(timeout: writeTimeout) { try await reconcile(db, mirror) }
            let chain = try await resume(db, at: head, key: signingKey.publicKey)
            let trail = AuditTrail(
                config: config, db: db, mirror: mirror, signingKey: signingKey, policy: policy, writeTimeout: writeTimeout, chain: chain,
                logger: logger)
            // A tail left by a broker that stopped without closing waits for its checkpoint no longer than the policy says.
            await trail.scheduleCheckpoint()
            return trail
        } catch {
            try? await db.connection.close()
            throw error
        }
    }

    /// Pins `key` as the trail's verification key on the first start, and refuses any other key afterwards.
    private static func pin(_ key: AuditPublicKey, _ db: DatabaseSession) async throws {
        try await db.execute(
            "INSERT INTO broker.audit_key (key_id, verifier_key) VALUES (\(key.keyID), \(key.noteVerifier.description)) ON CONFLICT DO NOTHING",
            "pin the audit key")
        guard let pinned = try await pinnedKey(db) else { throw StoreError.auditUnavailable("the audit key could not be pinned") }
        guard pinned == key else {
            throw StoreError.auditUnavailable(
                "the audit signing key (\(key)) is not the key pinned at the first start (\(pinned)): a key pair swapped in the state folder signs nothing"
            )
        }
    }

    /// The verification key pinned at the first start, if the trail was ever opened.
    public static func pinnedKey(_ db: DatabaseSession) async throws -> AuditPublicKey? {
        var text: String?
        for try await value in try await db.query("SELECT verifier_key FROM broker.audit_key", "read the pinned audit key").decode(String.self) {
            text = value
        }
        guard let text else { return nil }
        do { return try AuditPublicKey(verifierKey: text) } catch {
            throw StoreError.auditUnavailable("the pinned audit key in the database is not a verifier key: run `sde-broker audit verify`")
        }
    }

    /// The line every signed tree head starts with: a checkpoint's action, actor and cell counts are fixed.
    static let checkpointLinePrefix = #"{"action":"audit.checkpoint","actor":"sde-broker","cells_released":0,"cells_suppressed":{},"checkpoint":{"#

    /// The chain at `head`, continued from the last signed tree head among the most recent events (a trail that keeps
    /// to its gap policy has one within ``AuditCheckpointPolicy/ceiling``), verified with `key`; a trail without one
    /// there (one written before signed tree heads) is replayed from its first event. Events another process commits
    /// after `head` are left for the first write to bring in, as after any other writer.
    private static func resume(_ db: DatabaseSession, at head: AuditHead, key: AuditPublicKey) async throws -> AuditChain {
        guard head != .genesis else { return AuditChain() }
        let window = head.sequence - Int64(AuditCheckpointPolicy.ceiling.maxEvents) - 2
        let found = try await db.query(
            """
            SELECT line FROM broker.audit_event WHERE sequence > \(window) AND sequence <= \(head.sequence)
              AND starts_with(line, \(checkpointLinePrefix)) AND strpos(line, ',"note":') > 0 ORDER BY sequence DESC LIMIT 1
            """, "find the last audit checkpoint")
        var checkpoint: AuditEvent?
        for try await line in found.decode(String.self) { checkpoint = try? AuditJSONL.decode(line) }
        let rows = try await db.query(
            "SELECT line FROM broker.audit_event WHERE sequence > \(checkpoint?.sequence ?? 0) AND sequence <= \(head.sequence) ORDER BY sequence",
            "read the audit events since")
        var events: [AuditEvent] = []
        for try await line in rows.decode(String.self) {
            do { events.append(try AuditJSONL.decode(line)) } catch {
                throw StoreError.auditUnavailable("an audit event in the database is damaged: run `sde-broker audit verify`")
            }
        }
        let chain: AuditChain
        do {
            if let checkpoint {
                chain = try AuditChain(resumingAfter: checkpoint, eventsSince: events, key: key)
            } else {
                chain = try AuditChain(replaying: events)
            }
        } catch {
            throw StoreError.auditUnavailable(
                "the audit trail does not continue its last checkpoint (\(error.message)): run `sde-broker audit verify`")
        }
        guard chain.head == head else { throw StoreError.auditUnavailable("the audit trail does not reach its head: run `sde-broker audit verify`") }
        return chain
    }

    /// The head both stores agree on, after cutting from the mirror a tail that extends the database's chain but never
    /// committed; refuses anything else.
    private static func reconcile(_ db: DatabaseSession, _ mirror: AuditMirror) async throws -> AuditHead {
        let databaseHead = try await Self.databaseHead(db)
        let mirrorHead = try mirror.lastEvent()?.head ?? .genesis
        if mirrorHead.sequence > databaseHead.sequence {
            // Only a tail that extends this database's own chain may be cut; anything else is another trail or damage.
            guard databaseHead.sequence > 0, try mirror.contains(databaseHead) else {
                throw StoreError.auditUnavailable(
                    "the audit mirror in \(mirror.directory) holds events this database does not (database head \(databaseHead.sequence)): "
                        + "if it belongs to another database, use another --audit-dir; otherwise run `sde-broker audit verify`")
            }
            db.logger.warning("cutting uncommitted events from the audit mirror", metadata: ["sde.audit.after": "\(databaseHead.sequence)"])
            try mirror.truncate(after: databaseHead.sequence)
        }
        let reconciled = try mirror.lastEvent()?.head ?? .genesis
        guard reconciled == databaseHead else {
            throw StoreError.auditUnavailable(
                "the audit stores disagree (database head \(databaseHead.sequence), mirror head \(reconciled.sequence)): run `sde-broker audit verify`")
        }
        return databaseHead
    }

    /// The last committed event's sequence and hash.
    public var head: AuditHead { chain.head }

    /// Records `draft` in both stores and returns the committed event.
    /// - Throws: `StoreError.auditUnavailable` when either store cannot be written; nothing was recorded then.
    @discardableResult
    public func record(_ draft: AuditEventDraft) async throws -> AuditEvent {
        try await enqueue(draft)
    }

    private func enqueue(_ draft: AuditEventDraft?) async throws -> AuditEvent {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiter(draft: draft, continuation: continuation))
            if !writing {
                writing = true
                Task { await self.writeWaiting() }
            }
        }
    }

    /// Appends a signed checkpoint of the current head now (at shutdown, or on demand).
    @discardableResult
    public func checkpoint() async throws -> AuditEvent {
        try await enqueue(nil)
    }

    /// Whether the trail can be written now, checked without writing an event (for readiness checks): the mirror can
    /// be appended to (``AuditMirror/canAppend(at:)``: today's file opens for appending, the file system has room),
    /// and the database answers within two seconds with the trail's role allowed to insert audit events in a
    /// writable database (not a read-only session, not a standby). After a failure this reconnects, as the next
    /// write would.
    public func probe() async -> Bool {
        guard mirror.canAppend(at: Self.now()) else { return false }
        var session: DatabaseSession?
        do {
            let db = try await connection()
            session = db
            return try await db.withDeadline(.seconds(2), onTimeout: .auditUnavailable("the audit database did not answer in time")) {
                let rows = try await db.query(
                    """
                    SELECT has_table_privilege('broker.audit_event', 'INSERT') AND NOT pg_is_in_recovery()
                        AND current_setting('transaction_read_only') = 'off'
                    """, "check the audit insert privilege")
                var writable = false
                for try await value in rows.decode(Bool.self) { writable = value }
                return writable
            }
        } catch {
            if let session { await discard(session) }
            return false
        }
    }

    /// Writes a final checkpoint (when anything happened since the last one) and closes the connection.
    public func close() async {
        closed = true
        timer?.cancel()
        timer = nil
        if chain.eventsSinceCheckpoint > 0 { _ = try? await checkpoint() }
        _ = try? await connecting?.value
        if let db { await discard(db) }
    }

    /// Starts the checkpoint timer, unless it runs: it fires when the oldest event not yet covered by a checkpoint has
    /// waited the policy's seconds (at once for a tail a stopped broker left), and writes a checkpoint if one is still due.
    private func scheduleCheckpoint() {
        guard timer == nil, !closed, let first = chain.firstEventSinceCheckpoint else { return }
        let wait = first.millisecondsSinceEpoch + Int64(policy.maxSeconds) * 1000 - Self.now().millisecondsSinceEpoch
        timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(max(0, wait)))
            guard !Task.isCancelled else { return }
            await self?.checkpointTimerFired()
        }
    }

    private func checkpointTimerFired() async {
        timer = nil
        guard !closed, chain.eventsSinceCheckpoint > 0 else { return }
        do {
            _ = try await checkpoint()
        } catch {
            // Nothing can be released while the trail cannot be written either; try again shortly.
            logger.warning("the timed audit checkpoint could not be written", metadata: ["sde.audit.error": "\(error)"])
            timer = Task { [weak self] in
                try? await Task.sleep(for: .seconds(2))
                guard !Task.isCancelled else { return }
                await self?.checkpointTimerFired()
            }
        }
    }

    private func writeWaiting() async {
        while !waiting.isEmpty {
            let group = waiting
            waiting.removeAll()
            do {
                let events = try await writeHoldingMirrorLock(group)
                for (waiter, event) in zip(group, events) { waiter.continuation.resume(returning: event) }
            } catch {
                let failure = (error as? StoreError) ?? StoreError.auditUnavailable("audit unavailable: the event could not be signed")
                for waiter in group { waiter.continuation.resume(throwing: failure) }
            }
        }
        writing = false
        scheduleCheckpoint()
    }

    /// Chains `group` on the committed head and writes it to both stores (returning each waiter's event), holding the
    /// mirror directory's lock so that another broker process (a CLI command beside `serve`) never interleaves with
    /// this write. If the insert finds the sequence numbers taken because another process advanced the database's
    /// chain meanwhile (possible when the two do not share a mirror directory; SQLSTATE 23505), this trail catches up
    /// with what was committed, on the same connection, and chains the group again on the new head: as often as the
    /// head keeps moving, within `writeTimeout`. Any other failure releases nothing.
    private func writeHoldingMirrorLock(_ group: [Waiter]) async throws -> [AuditEvent] {
        try await mirror.withLock(timeout: writeTimeout) {
            let deadline = ContinuousClock.now + writeTimeout
            while true {
                let head = chain.head
                let db = try await connection()
                var next = chain
                let (events, perWaiter) = try chained(group, on: &next)
                do {
                    try await write(events, on: db)
                    chain = next
                    return perWaiter
                } catch is HeadMoved {
                    do { try await catchUp(on: db) } catch {
                        await discard(db)
                        throw StoreError.auditUnavailable("audit unavailable: the audit database could not be read, so nothing was released")
                    }
                    guard chain.head != head, ContinuousClock.now < deadline else {
                        throw StoreError.auditUnavailable("audit unavailable: the audit database could not be written, so nothing was released")
                    }
                }
            }
        }
    }

    /// The insert found its sequence numbers taken: another writer committed events this trail has not seen.
    private struct HeadMoved: Error {}

    /// The events of `group` appended to `next`, each preceded by a checkpoint when the gap policy calls for one, and
    /// followed by one when the group fills the policy's count. Returns one event per waiter, in order, plus the
    /// checkpoints (``writeWaiting()`` hands each waiter its own event).
    private func chained(_ group: [Waiter], on next: inout AuditChain) throws -> (all: [AuditEvent], perWaiter: [AuditEvent]) {
        let time = Self.now()
        var all: [AuditEvent] = []
        var perWaiter: [AuditEvent] = []
        for waiter in group {
            if let draft = waiter.draft {
                if next.isCheckpointDue(at: time, policy: policy) {
                    all.append(try next.appendCheckpoint(at: time, signedBy: signingKey, policy: policy))
                }
                all.append(next.append(draft, at: time))
            } else {
                all.append(try next.appendCheckpoint(at: time, signedBy: signingKey, policy: policy))
            }
            perWaiter.append(all[all.count - 1])
        }
        if next.eventsSinceCheckpoint >= policy.maxEvents { all.append(try next.appendCheckpoint(at: time, signedBy: signingKey, policy: policy)) }
        return (all, perWaiter)
    }

    /// Mirror first (fsynced), then the database commit; a failed commit cuts the mirror back.
    ///
    /// A database that does not answer within `writeTimeout` counts as failed: the connection is closed, so a hung
    /// server never holds a request (or the chain) forever. Whether such a write committed is settled on reconnect.
    private func write(_ events: [AuditEvent], on db: DatabaseSession) async throws {
        let undo = try mirror.append(events)
        do {
            let lines = events.map { String(decoding: AuditJSONL.encode($0), as: UTF8.self) }
            let sequences = events.map(\.sequence), hashes = events.map(\.hash.hex)
            let insert = AuditInsert(sequences: sequences, hashes: hashes, lines: lines)
            try await db.withDeadline(writeTimeout, onTimeout: .auditUnavailable("the audit database did not answer in time")) {
                do {
                    for try await _ in try await db.connection.execute(insert, logger: db.logger.postgresDriver) {}
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                    throw HeadMoved()
                } catch {
                    throw db.failure(error, "record audit events")
                }
            }
        } catch is HeadMoved {
            // The statement failed on its own (autocommit): the connection is sound and stays open for the catch-up.
            mirror.rollback(undo)
            logger.debug("the audit head moved: another writer committed first")
            throw HeadMoved()
        } catch {
            mirror.rollback(undo)
            await discard(db)
            logger.error("audit write failed", metadata: ["sde.audit.error": "\(DatabaseSession.logDescription(error))"])
            throw StoreError.auditUnavailable("audit unavailable: the audit database could not be written, so nothing was released")
        }
    }

    /// The open connection; after a failure, a new one, first bringing the mirror and the head up to what the
    /// database committed (a write that timed out may have committed after all). Callers that arrive while one is
    /// being opened wait for it; a connection whose catch-up fails is closed, never dropped open.
    private func connection() async throws -> DatabaseSession {
        if let db { return db }
        if let connecting { return try await connecting.value }
        let task = Task { () async throws -> DatabaseSession in
            let fresh = try await Self.connect(config, logger: logger)
            do {
                try await catchUp(on: fresh)
            } catch {
                try? await fresh.connection.close()
                throw error
            }
            return fresh
        }
        connecting = task
        defer { connecting = nil }
        let fresh = try await task.value
        db = fresh
        return fresh
    }

    /// Brings the head (and a mirror that lacks them) up to the events the database committed beyond it.
    private func catchUp(on db: DatabaseSession) async throws {
        let rows = try await db.query(
            "SELECT line FROM broker.audit_event WHERE sequence > \(chain.head.sequence) ORDER BY sequence", "read committed audit events")
        var committed: [AuditEvent] = []
        for try await line in rows.decode(String.self) { committed.append(try AuditJSONL.decode(line)) }
        guard !committed.isEmpty else { return }
        var next = chain
        for event in committed { try next.advance(to: event) }
        // Another process sharing this mirror wrote its own events there; a write of ours that timed out did not.
        let mirrored = try mirror.lastEvent()?.sequence ?? 0
        let missing = committed.filter { $0.sequence > mirrored }
        if let last = committed.last, mirrored >= last.sequence, try mirror.lastEvent()?.head != last.head {
            throw StoreError.auditUnavailable("the audit mirror disagrees with the database after another writer: run `sde-broker audit verify`")
        }
        if !missing.isEmpty {
            _ = try mirror.append(missing)
            logger.warning("committed audit events missing from the mirror were added to it", metadata: ["sde.audit.count": "\(missing.count)"])
        }
        chain = next
    }

    /// Closes `session`, forgetting it first if it is the trail's open connection (so nobody picks it up meanwhile).
    private func discard(_ session: DatabaseSession) async {
        if let db, db.connection === session.connection { self.db = nil }
        try? await session.connection.close()
    }

    private static func connect(_ config: DatabaseConfig, logger: Logger) async throws -> DatabaseSession {
        let db: DatabaseSession
        do { db = try await DatabaseSession.connect(config, logger: logger) } catch {
            throw StoreError.auditUnavailable("audit unavailable: \(error.message)")
        }
        // The trail writes as sde_broker, which may INSERT and SELECT audit events and nothing else.
        do {
            try await db.execute("SET ROLE sde_broker", "become sde_broker")
        } catch {
            try? await db.connection.close()
            throw error
        }
        return db
    }

    private static func databaseHead(_ db: DatabaseSession) async throws -> AuditHead {
        let rows = try await db.query("SELECT line FROM broker.audit_event ORDER BY sequence DESC LIMIT 1", "read the audit head")
        // Read the stream to its end: a half-read stream would leave the connection busy.
        var last: String?
        for try await line in rows.decode(String.self) { last = line }
        guard let last else { return .genesis }
        do { return try AuditJSONL.decode(last).head } catch {
            throw StoreError.auditUnavailable("the last audit event in the database is damaged: run `sde-broker audit verify`")
        }
    }

    /// The current time, as the trail stamps events.
    public static func now() -> AuditTimestamp {
        AuditTimestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))!
    }
}

/// The insert of every audit write (one event or a group commit's batch), prepared once per connection.
struct AuditInsert: PostgresPreparedStatement {
    static let sql = "INSERT INTO broker.audit_event (sequence, hash, line) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])"
    typealias Row = ()

    let sequences: [Int64], hashes: [String], lines: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(sequences)
        bindings.append(hashes)
        bindings.append(lines)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
