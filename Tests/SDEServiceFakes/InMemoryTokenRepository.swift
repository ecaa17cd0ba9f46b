import Foundation
import SDEAudit
public import SDECommon
public import SDEService
import Synchronization

/// API tokens in memory, with the store's rules: a token is `sde_<16 hex>_<64 hex>` from the system's random number
/// generator, only the SHA-256 of its secret is kept, and a presented token is malformed, unknown (no such id, or the
/// wrong secret), expired (after its expiry day), revoked, or valid, checked in that order. A token is revoked once.
///
/// ```swift
/// let tokens = InMemoryTokenRepository()
/// let issued = try await tokens.issue(user: "res", expires: today.adding(days: 30))
/// #expect(try await tokens.authenticate(issued.token, today: today) == .valid(user: "res", tokenID: issued.id))
/// ```
public final class InMemoryTokenRepository: TokenRepository, Sendable {
    private let state = Mutex(State())

    private struct State {
        var tokens: [String: Stored] = [:]
        var order: [String] = []
        var failure: PortFailure?
    }

    private struct Stored {
        let user: String
        let secretDigest: AuditDigest
        let created: Date
        let expires: CivilDate
        var revoked: Date?
    }

    /// An empty repository.
    public init() {}

    /// Makes every later call throw `failure` (`nil`: work again).
    public func failCalls(with failure: PortFailure?) {
        state.withLock { $0.failure = failure }
    }

    public func issue(user: String, expires: CivilDate) async throws -> IssuedToken {
        var generator = SystemRandomNumberGenerator()
        let id = Hex.encode((0..<8).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let created = Date()
        try state.withLock { state throws(PortFailure) in
            if let failure = state.failure { throw failure }
            guard state.tokens[id] == nil else { throw PortFailure(.databaseUnavailable, "a token id clashed") }
            state.tokens[id] = Stored(user: user, secretDigest: AuditDigest.sha256(of: secret), created: created, expires: expires)
            state.order.append(id)
        }
        return IssuedToken(id: id, token: "sde_\(id)_\(Hex.encode(secret))", user: user, created: created, expires: expires)
    }

    public func authenticate(_ presented: String, today: CivilDate) async throws -> TokenCheck {
        try state.withLock { state throws(PortFailure) -> TokenCheck in
            if let failure = state.failure { throw failure }
            guard let (id, secret) = Self.parse(presented) else { return .rejected(.malformed) }
            guard let stored = state.tokens[id], stored.secretDigest == AuditDigest.sha256(of: secret) else { return .rejected(.unknown) }
            if today > stored.expires { return .rejected(.expired) }
            if stored.revoked != nil { return .rejected(.revoked) }
            return .valid(user: stored.user, tokenID: id)
        }
    }

    public func revoke(id: String) async throws -> Bool {
        try state.withLock { state throws(PortFailure) -> Bool in
            if let failure = state.failure { throw failure }
            guard state.tokens[id]?.revoked == .some(nil) else { return false }
            state.tokens[id]?.revoked = Date()
            return true
        }
    }

    /// Every token, oldest first (as the store lists them).
    public func list() async throws -> [TokenRecord] {
        try state.withLock { state throws(PortFailure) -> [TokenRecord] in
            if let failure = state.failure { throw failure }
            return state.order.compactMap { id in
                state.tokens[id].map { TokenRecord(id: id, user: $0.user, created: $0.created, expires: $0.expires, revoked: $0.revoked) }
            }
        }
    }

    /// The id and secret bytes of a well-formed token (lower-case hex only), or `nil`.
    private static func parse(_ presented: String) -> (id: String, secret: [UInt8])? {
        let parts = presented.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "sde", parts[1].utf8.count == 16, parts[2].utf8.count == 64,
            (parts[1] + parts[2]).utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
            let secret = Hex.decode(String(parts[2]))
        else { return nil }
        return (String(parts[1]), secret)
    }
}
