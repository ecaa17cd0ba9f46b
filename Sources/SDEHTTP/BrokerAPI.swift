public import Hummingbird
public import Logging
import SDEAudit
public import SDEService

/// The broker's HTTP API: the router over the broker's services. Every route authenticates through ``TokenService``
/// (except health and metrics), calls one service, and renders what it returns; the services decide and audit.
///
/// ```swift
/// let api = BrokerAPI(broker: broker, logger: logger)
/// let app = Application(router: api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// ```
public struct BrokerAPI: Sendable {
    /// The services.
    public let broker: Broker
    /// Request and query counters for `GET /metrics`.
    public let metrics: BrokerMetrics
    /// The service's logger (never record values, SQL or tokens).
    public let logger: Logger

    /// An API over `broker`, counting into `metrics`.
    public init(broker: Broker, metrics: BrokerMetrics = BrokerMetrics(), logger: Logger) {
        self.broker = broker
        self.metrics = metrics
        self.logger = logger
    }

    /// Every route: `/healthz`, `/readyz` and `/metrics` without a token; `/v1/...` behind ``TokenAuthenticator``.
    public func router() -> Router<BrokerContext> {
        let router = Router(context: BrokerContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware(logger: logger, routes: routes.map { ($0.method, $0.path) }))
        let v1 = router.group("v1").add(middleware: TokenAuthenticator(tokens: broker.tokens, metrics: metrics))
        for route in routes {
            if route.authenticated {
                v1.on(RouterPath(stringLiteral: String(route.path.dropFirst(4))), method: route.method, use: auditingRefusals(route))
            } else {
                router.on(RouterPath(stringLiteral: route.path), method: route.method, use: route.handler)
            }
        }
        return router
    }

    /// `route`'s handler, with every refusal or failure that has no audit event yet (a body that is not JSON, an unknown
    /// query-string parameter, a body over the limit, a bad format or version) recorded under the route's action before
    /// the error response is sent: every authenticated request is one audit event.
    private func auditingRefusals(_ route: Route) -> @Sendable (Request, BrokerContext) async throws -> Response {
        guard let subject = route.audit else { preconditionFailure("every /v1 route names its audit action") }
        return { [broker] request, context in
            do {
                return try await route.handler(request, context)
            } catch {
                let refusal = APIError(error)
                guard refusal.auditSequence == nil, let caller = context.caller else { throw refusal }
                let target = context.parameters.get("query") ?? context.parameters.get("release")
                let event: AuditEvent
                do {
                    event = try await broker.gate.recordRefusal(
                        caller, AuditSubject(subject.action, refusedAs: subject.refusedAs, project: context.parameters.get("project"), target: target),
                        reason: refusal.code, failed: refusal.status.code >= 500)
                } catch {
                    throw APIError(ServiceError(error))
                }
                throw APIError(refusal.status, refusal.code, refusal.message, auditSequence: event.sequence)
            }
        }
    }

    /// Method and path template of every route, as `openapi.yaml` documents them (e.g. `GET /v1/me`).
    public var routeList: [String] { routes.map { "\($0.method.rawValue) \($0.path)" } }

    var routes: [Route] { healthRoutes + identityRoutes + queryRoutes + releaseRoutes + auditRoutes }
}
