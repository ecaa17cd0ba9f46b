/// Who is asking, as established from something they hold: an API token, checked by ``TokenService``.
///
/// Nothing in the broker acts for a user id typed on a command line or in a request: every caller comes from a token.
public struct Caller: Sendable, Hashable {
    /// The user id the token was issued to.
    public let user: String
    /// The token's public id (never the token).
    public let tokenID: String

    /// A caller authenticated by token `tokenID`.
    public init(user: String, tokenID: String) {
        self.user = user
        self.tokenID = tokenID
    }
}
