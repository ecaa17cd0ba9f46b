import Synchronization

/// A per-client limit on failed authentications, kept in memory and bounded: a client (an address, as the HTTP layer
/// names it) that fails authentication more than ``Limits/failures`` times in a window of ``Limits/window`` is
/// refused with `too_many_requests` for the rest of that window. ``TokenService`` records one audit event per such
/// burst instead of one per refused request, so one client cannot fill the audit trail (each event is fsynced).
///
/// Only failures count and only failures are refused: a request with a valid token is served whatever its address
/// did, so a client sharing an address with an attacker (behind one NAT) keeps working.
///
/// At most ``Limits/clients`` addresses are tracked (each a few dozen bytes); when that many are in their window,
/// every further address shares one overflow entry, so memory stays bounded and a flood from many addresses is still
/// limited as a whole.
///
/// ```swift
/// let limiter = AuthenticationLimiter(limits: .init(failures: 20, window: .seconds(60)))
/// switch limiter.recordFailure(from: "203.0.113.7") {
/// case .counted: break                              // audit this failure as usual (401)
/// case .limited(let first, _): if first { /* audit the burst once */ }   // 429
/// }
/// ```
public final class AuthenticationLimiter: Sendable {
    /// How many failures a client may have in how long, and how many clients are tracked.
    public struct Limits: Sendable, Hashable {
        /// Failed authentications allowed per client in one window; the next is refused.
        public var failures: Int
        /// The length of a window, from a client's first failure in it.
        public var window: Duration
        /// Addresses tracked at most; beyond that, new addresses share one entry.
        public var clients: Int

        /// Limits; `failures` at least 1, `window` positive, `clients` at least 1.
        public init(failures: Int, window: Duration, clients: Int = 10_000) {
            precondition(failures >= 1 && window > .zero && clients >= 1, "authentication limits must be positive")
            self.failures = failures
            self.window = window
            self.clients = clients
        }

        /// The window in whole seconds, rounded up (for `Retry-After` and audit parameters).
        public var windowSeconds: Int { AuthenticationLimiter.wholeSeconds(window) }

        /// 20 failures a minute per client, 10,000 clients.
        public static let standard = Limits(failures: 20, window: .seconds(60))
    }

    /// What a failure means for its client.
    public enum Verdict: Sendable, Hashable {
        /// Within the limit: refuse and audit it as usual.
        case counted
        /// Over the limit: refuse with `too_many_requests`. `firstInBurst` is true for the first refusal of the window
        /// (the one to audit); `retryAfter` is what remains of the window.
        case limited(firstInBurst: Bool, retryAfter: Duration)
    }

    /// The key every address beyond ``Limits/clients`` shares.
    public static let overflowClient = "(other clients)"

    private struct Entry {
        var windowStart: ContinuousClock.Instant
        var failures: Int
        var burstRecorded: Bool
    }

    /// The limits in force.
    public let limits: Limits
    private let now: @Sendable () -> ContinuousClock.Instant
    private let entries = Mutex<[String: Entry]>([:])

    /// A limiter with `limits`, reading time from `now` (the continuous clock unless a test gives another).
    public init(limits: Limits = .standard, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.limits = limits
        self.now = now
    }

    /// Counts one failed authentication from `client` and says whether it is over the limit.
    public func recordFailure(from client: String) -> Verdict {
        let time = now()
        return entries.withLock { entries in
            var key = client
            if entries[key] == nil, entries.count >= limits.clients {
                entries = entries.filter { time - $0.value.windowStart < limits.window }
                if entries.count >= limits.clients { key = Self.overflowClient }
            }
            var entry = entries[key] ?? Entry(windowStart: time, failures: 0, burstRecorded: false)
            if time - entry.windowStart >= limits.window { entry = Entry(windowStart: time, failures: 0, burstRecorded: false) }
            entry.failures += 1
            defer { entries[key] = entry }
            guard entry.failures > limits.failures else { return .counted }
            let first = !entry.burstRecorded
            entry.burstRecorded = true
            return .limited(firstInBurst: first, retryAfter: limits.window - (time - entry.windowStart))
        }
    }

    /// `duration` in whole seconds, rounded up (at least 1).
    static func wholeSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }

    /// Addresses tracked now (expired windows included until they are pruned).
    public var trackedClients: Int { entries.withLock { $0.count } }
}
