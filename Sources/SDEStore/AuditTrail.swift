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
    private let checkpointInterval: Int
    private let writeTimeout: Duration
    private let logger: Logger
    private var db: DatabaseSession?
    /// A reconnection in progress, which every caller awaits (the actor is re-entrant across awaits: two callers
    /// connecting at once would each open a connection, and one would be dropped unclosed).
    private var connecting: Task<DatabaseSession, any Error>?
    private var chain: AuditChain
    private var eventsSinceCheckpoint = 0
    private var waiting: [Waiter] = []
    private var writing = false

    private init(
        config: DatabaseConfig, db: DatabaseSession, mirror: AuditMirror, signingKey: AuditSigningKey, checkpointInterval: Int, writeTimeout: Duration,
        head: AuditHead, logger: Logger
    ) {
        self.config = config
        self.db = db
        self.mirror = mirror
        self.signingKey = signingKey
        self.checkpointInterval = checkpointInterval
        self.writeTimeout = writeTimeout
        self.chain = AuditChain(head: head)
        self.logger = logger
    }

    /// Opens the trail: connects as `sde_broker`, reads both stores' heads and refuses to start if they disagree.
    ///
    /// Events the mirror holds beyond the database's head were never committed (the broker stopped between the two
    /// writes) and so never released anything: they are cut from the mirror.
    /// - Parameters:
    ///   - checkpointInterval: a signed checkpoint ends the write in which this many events have gathered since the last one.
    ///   - writeTimeout: how long a database write may take before the trail gives up on it (and releases nothing).
    public static func open(
        database config: DatabaseConfig, mirrorDirectory: String, signingKey: AuditSigningKey, checkpointInterval: Int = 1000,
        writeTimeout: Duration = .seconds(10), logger: Logger
    ) async throws -> AuditTrail {
        let mirror = AuditMirror(directory: mirrorDirectory)
        do {
            try FileManager.default.createDirectory(atPath: mirrorDirectory, withIntermediateDirectories: true)
        } catch { throw StoreError.auditUnavailable("cannot create the audit mirror directory \(mirrorDirectory)") }
        let db = try await connect(config, logger: logger)
        do {
            // Under the mirror's lock: another process's write in flight is neither mistaken for a torn tail nor cut.
            let head = try await mirror.withLock(timeout: writeTimeout) { try await reconcile(db, mirror) }
            return AuditTrail(
                config: config, db: db, mirror: mirror, signingKey: signingKey, checkpointInterval: checkpointInterval,
                writeTimeout: writeTimeout, head: head, logger: logger)
        } catch {
            try? await db.connection.close()
            throw error
        }
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
        if eventsSinceCheckpoint > 0 { _ = try? await checkpoint() }
        _ = try? await connecting?.value
        if let db { await discard(db) }
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
    }

    /// Chains `group` on the committed head and writes it to both stores, holding the mirror directory's lock so that
    /// another broker process (a CLI command beside `serve`) never interleaves with this write. If the insert finds the
    /// sequence numbers taken because another process advanced the database's chain meanwhile (possible when the two do
    /// not share a mirror directory; SQLSTATE 23505), this trail catches up with what was committed, on the same
    /// connection, and chains the group again on the new head: as often as the head keeps moving, within
    /// `writeTimeout`. Any other failure releases nothing.
    private func writeHoldingMirrorLock(_ group: [Waiter]) async throws -> [AuditEvent] {
        try await mirror.withLock(timeout: writeTimeout) {
            let deadline = ContinuousClock.now + writeTimeout
            while true {
                let head = chain.head
                let db = try await connection()
                var next = chain
                let events = try chained(group, on: &next)
                do {
                    try await write(events, on: db)
                    chain = next
                    eventsSinceCheckpoint = events.contains { $0.action == .auditCheckpoint } ? 0 : eventsSinceCheckpoint + events.count
                    return events
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

    /// The events of `group` appended to `next`, with a checkpoint when one is due.
    private func chained(_ group: [Waiter], on next: inout AuditChain) throws -> [AuditEvent] {
        let time = Self.now()
        var events: [AuditEvent] = []
        var checkpointed = false
        for waiter in group {
            if let draft = waiter.draft {
                events.append(next.append(draft, at: time))
            } else {
                events.append(try next.appendCheckpoint(at: time, signedBy: signingKey))
                checkpointed = true
            }
        }
        if !checkpointed && eventsSinceCheckpoint + events.count >= checkpointInterval {
            events.append(try next.appendCheckpoint(at: time, signedBy: signingKey))
        }
        return events
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

    static func now() -> AuditTimestamp {
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
