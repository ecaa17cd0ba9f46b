import Foundation
public import Hummingbird
public import Logging
import SDEAudit
public import SDECommon
public import SDEPolicy
public import SDEService
public import SDEStore

/// The broker's HTTP API: what every route needs (policies, database, audit trail, clock) and the router over them.
///
/// ```swift
/// let api = BrokerAPI(policies: registry, connections: .pooled(client, logger: logger), trail: trail, logger: logger)
/// let app = Application(router: api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// ```
public struct BrokerAPI: Sendable {
    /// The policy set in force; reloaded on SIGHUP.
    public let policies: PolicyRegistry
    /// Where requests get database connections.
    public let connections: DatabaseConnections
    /// The audit trail every request's outcome goes to before its response.
    public let trail: AuditTrail
    /// Request and query counters for `GET /metrics`.
    public let metrics: BrokerMetrics
    /// Runs vetted queries (statement timeout, cell cap).
    public let executor: QueryExecutor
    /// Statistics of repeated queries on unchanged data, up to the cells given at init (its lookups counted in
    /// ``metrics``); `nil` (0 cells) runs every query's statement.
    public let statistics: StatisticsCache?
    /// Today's date, for policy decisions and token expiry.
    public let today: @Sendable () -> CivilDate
    /// The service's logger (never record values, SQL or tokens).
    public let logger: Logger

    public init(
        policies: PolicyRegistry, connections: DatabaseConnections, trail: AuditTrail, metrics: BrokerMetrics = BrokerMetrics(),
        executor: QueryExecutor = QueryExecutor(), statisticsCacheCells: Int = 0,
        today: @escaping @Sendable () -> CivilDate = BrokerAPI.utcToday, logger: Logger
    ) {
        self.policies = policies
        self.connections = connections
        self.trail = trail
        self.metrics = metrics
        self.executor = executor
        self.statistics = statisticsCacheCells > 0 ? StatisticsCache(capacity: statisticsCacheCells, onLookup: metrics.statisticsLookup) : nil
        self.today = today
        self.logger = logger
    }

    /// The current UTC date.
    @Sendable public static func utcToday() -> CivilDate {
        CivilDate(dayNumber: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// Every route: `/healthz`, `/readyz` and `/metrics` without a token; `/v1/...` behind ``TokenAuthenticator``.
    public func router() -> Router<BrokerContext> {
        let router = Router(context: BrokerContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware(logger: logger))
        let v1 = router.group("v1").add(middleware: TokenAuthenticator(api: self))
        for route in routes {
            if route.authenticated {
                v1.on(RouterPath(stringLiteral: String(route.path.dropFirst(4))), method: route.method, use: route.handler)
            } else {
                router.on(RouterPath(stringLiteral: route.path), method: route.method, use: route.handler)
            }
        }
        return router
    }

    /// Method and path template of every route, as `openapi.yaml` documents them (e.g. `GET /v1/me`).
    public var routeList: [String] { routes.map { "\($0.method.rawValue) \($0.path)" } }

    var routes: [Route] { healthRoutes + identityRoutes + queryRoutes + releaseRoutes + auditRoutes }

    /// The policy set in force, or the `policy_invalid` error while none is valid.
    func policy() async throws -> PolicySet {
        guard let policy = await policies.state.policy else { throw APIError.policyInvalid }
        return policy
    }

    /// Records one request's outcome; the response may be sent only after this returns.
    @discardableResult
    func audit(
        _ caller: Caller?, role: String?, action: AuditAction, project: String? = nil, target: String? = nil, policy: PolicySet?,
        outcome: AuditOutcome, reason: String? = nil
    ) async throws -> AuditEvent {
        let draft = try AuditEventDraft(
            actor: caller?.user ?? AuditEventDraft.anonymousActor, role: role, project: project.flatMap(AuditEventDraft.identifier), action: action,
            target: target.flatMap(AuditEventDraft.identifier), policyDigest: policy.flatMap { AuditDigest(hex: $0.digest) }, outcome: outcome,
            reason: reason)
        do {
            return try await trail.record(draft)
        } catch let error as StoreError {
            throw APIError(error)
        }
    }

    /// Decides `action` for `caller`; a refusal is audited under `auditAction` and thrown as its API error.
    func authorize(_ caller: Caller, _ action: AccessAction, auditAs auditAction: AuditAction, project: String? = nil, target: String? = nil)
        async throws -> (AccessGrant, PolicySet)
    {
        let policy = try await policy()
        switch policy.decide(user: caller.user, action: action, now: today()) {
        case .allow(let grant):
            return (grant, policy)
        case .deny(let denial):
            let event = try await audit(
                caller, role: nil, action: auditAction, project: project, target: target, policy: policy, outcome: .denied,
                reason: denial.reason.rawValue)
            throw APIError(denial, auditSequence: event.sequence)
        }
    }
}
