import Hummingbird
import SDEService

/// Authenticates `/v1` requests by bearer token (`Authorization: Bearer <token>`) through ``TokenService``: a missing,
/// malformed, unknown, expired or revoked token gets 401 `unauthenticated` and an audited `auth.failed` event; the
/// token itself is never logged or recorded. A client address over its limit of failed authentications gets 429
/// `too_many_requests` with `Retry-After` instead, audited once per burst and counted in ``BrokerMetrics``.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = BrokerContext
    let tokens: TokenService
    let metrics: BrokerMetrics

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        var context = context
        do {
            context.caller = try await tokens.authenticate(bearer: request.headers[.authorization], client: context.client)
        } catch let error as ServiceError where error.code == .tooManyRequests {
            metrics.authenticationLimited(audited: error.event != nil)
            throw APIError(error, retryAfter: tokens.limiter?.limits.windowSeconds)
        }
        return try await next(request, context)
    }
}
