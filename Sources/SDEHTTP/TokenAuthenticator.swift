import Hummingbird
import SDEAudit
import SDEPolicy
import SDEStore

/// Authenticates `/v1` requests by bearer token: `Authorization: Bearer <token>`.
///
/// A missing, malformed, unknown, expired or revoked token gets 401 `unauthenticated` and an `auth.failed` audit
/// event (actor `anonymous`, reason `token_missing`, `token_malformed`, ...); the token itself is never logged or
/// recorded. ``TokenStore`` compares secrets by their SHA-256 in constant time.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = BrokerContext
    let api: BrokerAPI

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw try await refuse("token_missing", "Send your API token as `Authorization: Bearer <token>`.") }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw try await refuse("token_malformed", "The Authorization header must be `Bearer <token>`.")
        }
        let token = String(header.dropFirst(7))
        let today = api.today()
        let check = try await api.connections.withDatabase { db in
            try await db.withDeadline(.seconds(5), onTimeout: .databaseUnavailable("the token check timed out")) {
                try await TokenStore.authenticate(token, today: today, on: db)
            }
        }
        switch check {
        case .valid(let user, let tokenID):
            var context = context
            context.caller = Caller(user: user, tokenID: tokenID)
            return try await next(request, context)
        case .rejected(let rejection):
            let message =
                switch rejection {
                case .malformed: "The token is not a broker API token."
                case .unknown: "The token is not known to the broker."
                case .expired: "The token has expired; ask an operator for a new one."
                case .revoked: "The token was revoked; ask an operator for a new one."
                }
            throw try await refuse("token_\(rejection.rawValue)", message)
        }
    }

    /// Audits the failed authentication and returns the 401 to throw.
    private func refuse(_ reason: String, _ message: String) async throws -> APIError {
        let event = try await api.audit(nil, role: nil, action: .authFailed, policy: await api.policies.state.policy, outcome: .denied, reason: reason)
        return APIError(.unauthorized, "unauthenticated", message, auditSequence: event.sequence)
    }
}
