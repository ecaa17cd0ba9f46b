import Foundation
import SDECommon
import SDEPolicy
import SDEService

/// A signed-in user as the console holds them: the token they pasted (kept only in this process's memory, presented
/// again to ``TokenService`` on every request so that a revoked or expired token ends the session), and their name and
/// roles for the navigation (authorisation is always the gate's).
struct SignedIn: Sendable {
    let token: String
    let caller: Caller
    let name: String
    let roles: Set<Role>
}

/// One console session: a random id (the cookie), the anti-forgery token every form carries, and the user once signed
/// in (a session before sign-in only protects the sign-in form).
struct ConsoleSession: Sendable {
    let id: String
    let csrf: String
    let user: SignedIn?
    let created: Date
    var lastSeen: Date
}

/// The console's sessions, in memory: they last hours at most and hold the user's token, which is never written to
/// disk or to the database; a restart signs everybody out.
actor SessionStore {
    private let settings: ConsoleSettings
    private var sessions: [String: ConsoleSession] = [:]

    init(settings: ConsoleSettings) {
        self.settings = settings
    }

    /// A new session (for `user`, or anonymous before sign-in), dropping the least recently used one when full.
    func create(for user: SignedIn?) -> ConsoleSession {
        let now = settings.now()
        sessions = sessions.filter { isLive($0.value, now: now) }
        if sessions.count >= settings.maxSessions, let oldest = sessions.values.min(by: { $0.lastSeen < $1.lastSeen }) {
            sessions[oldest.id] = nil
        }
        let session = ConsoleSession(id: Self.randomToken(), csrf: Self.randomToken(), user: user, created: now, lastSeen: now)
        sessions[session.id] = session
        return session
    }

    /// The live session `id`, marked as used now; `nil` (and forgotten) when unknown or over.
    func use(_ id: String) -> ConsoleSession? {
        let now = settings.now()
        guard var session = sessions[id] else { return nil }
        guard isLive(session, now: now) else {
            sessions[id] = nil
            return nil
        }
        session.lastSeen = now
        sessions[id] = session
        return session
    }

    /// Ends session `id`.
    func remove(_ id: String) {
        sessions[id] = nil
    }

    private func isLive(_ session: ConsoleSession, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeen) < settings.idleTimeout && now.timeIntervalSince(session.created) < settings.absoluteTimeout
    }

    /// 32 bytes from the system's cryptographic generator, as hex.
    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
