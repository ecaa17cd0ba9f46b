public import Logging
import NIOConcurrencyHelpers
import PostgresNIO
public import ServiceLifecycle

/// Where a service gets its database connections: a fresh connection per call (the command line, tests) or a
/// connection from a pool (the HTTP server, whose ``PostgresClient`` runs in its service group).
///
/// ```swift
/// let (connections, pool) = DatabaseConnections.pool(config, logger: logger)   // run `pool` in the service group
/// let count = try await connections.withDatabase { db in try await db.query("SELECT 1") }
/// ```
public struct DatabaseConnections: Sendable {
    private enum Source: Sendable {
        case direct(DatabaseConfig)
        case pooled(PostgresClient, LeasePolicy)
    }

    private let source: Source
    /// The logger every connection logs into.
    public let logger: Logger

    /// One new connection per ``withDatabase(_:)`` call, closed afterwards.
    public static func direct(_ config: DatabaseConfig, logger: Logger) -> DatabaseConnections {
        DatabaseConnections(source: .direct(config), logger: logger)
    }

    /// Connections leased from a pool of `config`'s server, and the pool, a service that must run (in the server's
    /// service group) for as long as they are used.
    ///
    /// How long a request waits for a connection is bounded, because postgres-nio's pool keeps a lease waiting while
    /// it retries a server that is gone (about a minute before its circuit breaker opens): a request that has waited
    /// `leaseTimeout` while the pool is idle (no connection of it in use or given back within that time: the server is
    /// not accepting connections) fails `database_unavailable` then; while the pool is busy serving others it waits up
    /// to `busyLeaseTimeout` (the statement timeout, by default), then fails likewise. The pool itself keeps
    /// reconnecting in the background (with a backoff of 100 ms growing by a quarter per failed attempt, at most a
    /// minute), so once the server is back on the same address, requests are served again without a restart.
    public static func pool(
        _ config: DatabaseConfig, leaseTimeout: Duration = .seconds(5), busyLeaseTimeout: Duration = .seconds(30), logger: Logger
    ) -> (connections: DatabaseConnections, pool: any Service) {
        let client = PostgresClient(configuration: config.clientConfiguration, backgroundLogger: logger.postgresDriver)
        let policy = LeasePolicy(idle: leaseTimeout, busy: max(leaseTimeout, busyLeaseTimeout))
        return (DatabaseConnections(source: .pooled(client, policy), logger: logger), client)
    }

    /// Runs `body` with a connection; failures to get one (none within the lease timeout, too) are
    /// ``StoreError/databaseUnavailable(_:)``.
    public func withDatabase<Result: Sendable>(_ body: (DatabaseSession) async throws -> Result) async throws -> Result {
        try await withDatabase(leasingWithin: nil, body)
    }

    /// ``withDatabase(_:)``, waiting at most `limit` (if shorter than the pool's lease timeout) for a pooled connection.
    private func withDatabase<Result: Sendable>(
        leasingWithin limit: Duration?, _ body: (DatabaseSession) async throws -> Result
    ) async throws -> Result {
        switch source {
        case .direct(let config):
            return try await DatabaseSession.with(config, logger: logger, body)
        case .pooled(let client, let policy):
            let lease: PooledLease
            do {
                lease = try await PooledLease.acquire(from: client, policy: limit.map(policy.limited) ?? policy)
            } catch {
                logger.debug("connection lease failed", metadata: ["sde.db.error": "\(DatabaseSession.logDescription(error))"])
                if let error = error as? StoreError { throw error }
                throw StoreError.databaseUnavailable("cannot get a database connection: \(DatabaseSession.reason(error))")
            }
            defer { lease.release() }
            return try await body(DatabaseSession(connection: lease.connection, logger: logger))
        }
    }

    /// Whether the database answers `SELECT 1` within `timeout` (a readiness check); a pooled connection is waited for
    /// no longer than that either.
    public func answers(within timeout: Duration) async -> Bool {
        do {
            try await withDatabase(leasingWithin: timeout) { db in
                try await db.ping(within: timeout, onTimeout: .databaseUnavailable("the database did not answer in time"))
            }
            return true
        } catch {
            return false
        }
    }
}

/// How long a pooled lease may wait: `idle` while the pool is idle (the server is not accepting connections), `busy`
/// while it is busy serving other requests: some of its connections are in use, or one was given back within the last
/// `idle` (it is being handed to the next waiter).
private struct LeasePolicy: Sendable {
    let idle: Duration
    let busy: Duration
    /// Leases of this pool held now, and when one was last taken or given back.
    private let activity: NIOLockedValueBox<(inUse: Int, last: ContinuousClock.Instant)>

    init(idle: Duration, busy: Duration) {
        self.init(idle: idle, busy: busy, activity: NIOLockedValueBox((0, ContinuousClock.now)))
    }

    private init(idle: Duration, busy: Duration, activity: NIOLockedValueBox<(inUse: Int, last: ContinuousClock.Instant)>) {
        self.idle = idle
        self.busy = busy
        self.activity = activity
    }

    /// The same policy, waiting at most `limit` in any case.
    func limited(to limit: Duration) -> LeasePolicy {
        LeasePolicy(idle: min(idle, limit), busy: min(busy, limit), activity: activity)
    }

    /// Whether the pool is serving others now (so a wait for it is a queue, not a server that is gone).
    var isBusy: Bool {
        activity.withLockedValue { $0.inUse > 0 || ContinuousClock.now - $0.last < idle }
    }

    /// Records a lease taken (`+1`) or given back (`-1`).
    func leased(_ change: Int) {
        activity.withLockedValue { $0 = ($0.inUse + change, ContinuousClock.now) }
    }
}

/// A connection leased from a `PostgresClient` within a deadline, used by the current task and then given back.
///
/// `PostgresClient` lends connections only inside `withConnection`'s closure, and a lease cannot be bounded in time
/// from outside it without moving the caller's work into another task. So a helper task leases and hands the
/// connection over, then holds the lease until ``release()``; if the deadline (or the caller's cancellation) comes
/// first, the lease request is cancelled, and a connection that arrives late goes straight back to the pool.
private struct PooledLease: Sendable {
    let connection: PostgresConnection
    private let done: OneShot<Void>
    private let policy: LeasePolicy

    static func acquire(from client: PostgresClient, policy: LeasePolicy) async throws -> PooledLease {
        let ready = OneShot<PostgresConnection>()
        let done = OneShot<Void>()
        let holder = Task {
            do {
                try await client.withConnection { connection in
                    // Refused when the caller gave up meanwhile: the closure returns and the pool has it back.
                    guard ready.complete(.success(connection)) else { return }
                    try? await done.value
                }
            } catch {
                ready.complete(.failure(error))
            }
        }
        let timer = Task {
            // Checked every `idle` interval: gone as soon as the pool is idle, at the latest after `busy`.
            let start = ContinuousClock.now
            repeat {
                try await Task.sleep(for: min(policy.idle, policy.busy - (ContinuousClock.now - start)))
            } while policy.isBusy && ContinuousClock.now - start < policy.busy
            let waited = (ContinuousClock.now - start).components.seconds
            ready.complete(.failure(StoreError.databaseUnavailable("no database connection within \(waited) s")))
        }
        defer { timer.cancel() }
        do {
            let connection = try await withTaskCancellationHandler {
                try await ready.value
            } onCancel: {
                ready.complete(.failure(CancellationError()))
            }
            policy.leased(+1)
            return PooledLease(connection: connection, done: done, policy: policy)
        } catch {
            holder.cancel()
            throw error
        }
    }

    /// Gives the connection back to the pool.
    func release() {
        policy.leased(-1)
        done.complete(.success(()))
    }
}

/// A value delivered once, awaited by one task: the first ``complete(_:)`` wins, later ones are refused.
private final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case pending(CheckedContinuation<Value, any Error>?)
        case completed(Result<Value, any Error>)
    }

    private let state = NIOLockedValueBox(State.pending(nil))

    /// Delivers `result`; false when a result was delivered before.
    @discardableResult
    func complete(_ result: Result<Value, any Error>) -> Bool {
        let waiter: CheckedContinuation<Value, any Error>?? = state.withLockedValue { state in
            guard case .pending(let waiter) = state else { return .none }
            state = .completed(result)
            return .some(waiter)
        }
        guard case .some(let continuation) = waiter else { return false }
        continuation?.resume(with: result)
        return true
    }

    /// The result, once delivered.
    var value: Value {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let delivered: Result<Value, any Error>? = state.withLockedValue { state in
                    switch state {
                    case .pending: state = .pending(continuation); return nil
                    case .completed(let result): return result
                    }
                }
                if let delivered { continuation.resume(with: delivered) }
            }
        }
    }
}
