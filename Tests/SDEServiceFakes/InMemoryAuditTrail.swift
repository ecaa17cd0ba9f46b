public import SDEAudit
public import SDEService
import Synchronization

/// An audit trail in memory: drafts are sealed into one hash chain by SDEAudit's ``AuditChain`` (so events have real
/// sequence numbers, hashes and links) at a clock that moves one second per event. It can be told to fail, as a trail
/// whose store cannot be written: nothing is recorded and the chain does not move.
///
/// ```swift
/// let trail = InMemoryAuditTrail()
/// trail.failWrites(with: .auditUnavailable)   // every record throws audit_unavailable
/// trail.failWrites(with: nil)                 // writable again
/// #expect(trail.events.last?.action == .queryDenied)
/// ```
public final class InMemoryAuditTrail: AuditRecording, Sendable {
    private let state: Mutex<State>
    /// The key that signs this trail's checkpoints.
    public let signingKey = AuditSigningKey()

    private struct State {
        var chain = AuditChain()
        var events: [AuditEvent] = []
        var time: AuditTimestamp
        var failure: PortFailure?
        var ready = true
    }

    /// An empty trail whose first event is timed at `start` (2026-06-15T09:00:00Z by default).
    public init(start: AuditTimestamp = AuditTimestamp(millisecondsSinceEpoch: 1_781_514_000_000)!) {
        state = Mutex(State(time: start))
    }

    /// Every event recorded, oldest first.
    public var events: [AuditEvent] { state.withLock { $0.events } }

    /// The chain's head (genesis before the first event).
    public var head: AuditHead { state.withLock { $0.chain.head } }

    /// Makes every later write throw `failure` (`nil`: writable again).
    public func failWrites(with failure: PortFailure?) {
        state.withLock { $0.failure = failure }
    }

    /// Sets what ``probe()`` answers (a readiness check that fails while `false`).
    public func setReady(_ ready: Bool) {
        state.withLock { $0.ready = ready }
    }

    @discardableResult
    public func record(_ draft: AuditEventDraft) async throws -> AuditEvent {
        try state.withLock { state throws(PortFailure) -> AuditEvent in
            if let failure = state.failure { throw failure }
            let event = state.chain.seal(draft, at: state.time)
            do {
                try state.chain.advance(to: event)
            } catch {
                throw PortFailure(.internalError, "the chain refused its own event: \(error)")
            }
            state.events.append(event)
            state.time = AuditTimestamp(millisecondsSinceEpoch: state.time.millisecondsSinceEpoch + 1000) ?? state.time
            return event
        }
    }

    /// Appends a signed checkpoint of every event so far, signed by ``signingKey``.
    @discardableResult
    public func checkpoint() async throws -> AuditEvent {
        try state.withLock { state throws(PortFailure) -> AuditEvent in
            if let failure = state.failure { throw failure }
            let event: AuditEvent
            do {
                event = try state.chain.appendCheckpoint(at: state.time, signedBy: signingKey)
            } catch {
                throw PortFailure(.internalError, "the chain could not sign a checkpoint: \(error)")
            }
            state.events.append(event)
            state.time = AuditTimestamp(millisecondsSinceEpoch: state.time.millisecondsSinceEpoch + 1000) ?? state.time
            return event
        }
    }

    public func probe() async -> Bool {
        state.withLock { $0.ready && $0.failure == nil }
    }
}

/// The IG team's search over an ``InMemoryAuditTrail``'s events, as the store's search answers it: the most recent
/// `limit` events matching the filter, oldest first.
public struct InMemoryAuditArchive: AuditArchive {
    /// The trail searched.
    public let trail: InMemoryAuditTrail

    /// An archive over `trail`.
    public init(trail: InMemoryAuditTrail) {
        self.trail = trail
    }

    public func search(_ filter: AuditFilter, limit: Int) async throws -> [AuditEvent] {
        Array(trail.events.filter(filter.matches).suffix(max(0, limit)))
    }
}
