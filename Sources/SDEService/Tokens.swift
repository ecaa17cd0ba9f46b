public import Foundation
public import SDECommon

/// A token just issued: the only time its secret exists outside the caller's hands. Show ``token`` once.
public struct IssuedToken: Sendable {
    /// The public token id (16 lower-case hex digits); safe to log, list and audit.
    public let id: String
    /// The bearer token, `sde_<id>_<secret>`; never stored, logged or audited.
    public let token: String
    /// The user the token authenticates as.
    public let user: String
    /// When it was issued.
    public let created: Date
    /// The last day (inclusive) on which it authenticates.
    public let expires: CivilDate

    /// A token as issued.
    public init(id: String, token: String, user: String, created: Date, expires: CivilDate) {
        self.id = id
        self.token = token
        self.user = user
        self.created = created
        self.expires = expires
    }
}

/// A stored token as operators see it: no secret and no hash.
public struct TokenRecord: Sendable {
    /// The public token id.
    public let id: String
    /// The user it authenticates as.
    public let user: String
    /// When it was issued.
    public let created: Date
    /// The last day (inclusive) on which it authenticates.
    public let expires: CivilDate
    /// When it was revoked, or `nil`.
    public let revoked: Date?

    /// A token as stored.
    public init(id: String, user: String, created: Date, expires: CivilDate, revoked: Date?) {
        self.id = id
        self.user = user
        self.created = created
        self.expires = expires
        self.revoked = revoked
    }
}

/// Why a presented token does not authenticate. All mean 401; the reason goes to the audit trail.
public enum TokenRejection: String, Sendable, Hashable {
    /// No token was presented.
    case missing
    /// Not of the form `sde_<16 hex>_<64 hex>`.
    case malformed
    /// No token has this id, or the secret does not match it.
    case unknown
    /// Presented after its expiry day.
    case expired
    /// Revoked by an operator.
    case revoked
}

/// Why a web-console request without a usable session was refused (audit reason `session_<rawValue>`).
public enum SessionRejection: String, Sendable, Hashable {
    /// The session's idle or absolute lifetime ran out, or it was signed out.
    case expired
    /// A sign-in form came back without the anti-forgery token it was served with.
    case csrfInvalid = "csrf_invalid"
}

/// The result of checking a bearer token.
public enum TokenCheck: Sendable, Hashable {
    /// The token is genuine, unexpired and unrevoked.
    case valid(user: String, tokenID: String)
    /// The token does not authenticate, and why.
    case rejected(TokenRejection)
}

/// API tokens as the services use them (`broker.api_token` in the store): only hashes are kept, and the table refuses
/// every change but revoking a token once.
public protocol TokenRepository: Sendable {
    /// Issues a token for `user`, valid to `expires` inclusive.
    func issue(user: String, expires: CivilDate) async throws -> IssuedToken
    /// Checks a presented bearer token on `today`.
    func authenticate(_ presented: String, today: CivilDate) async throws -> TokenCheck
    /// Revokes the token `id`; `false` when no unrevoked token has that id.
    func revoke(id: String) async throws -> Bool
    /// Every token, oldest first (never secrets).
    func list() async throws -> [TokenRecord]
}
