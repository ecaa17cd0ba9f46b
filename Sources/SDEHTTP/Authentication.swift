import Hummingbird
import SDEService

/// Authenticates `/v1` requests by bearer token (`Authorization: Bearer <token>`) through ``TokenService``: a missing,
/// malformed, unknown, expired or revoked token gets 401 `unauthenticated` and an audited `auth.failed` event; the
/// token itself is never logged or recorded.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = BrokerContext
    let tokens: TokenService

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try await tokens.authenticate(bearer: request.headers[.authorization])
        return try await next(request, context)
    }
}
