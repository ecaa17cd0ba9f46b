import Hummingbird
import NIOCore
public import Prometheus
import SDEService

/// Prometheus metrics of the HTTP API. Labels hold route templates (`/v1/projects/{project}/queries`), methods,
/// status codes and outcome codes only: never a user, a parameter value or a record.
public final class BrokerMetrics: Sendable {
    /// The registry `GET /metrics` renders.
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Counts a served request and records its duration.
    func requestServed(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: [("route", route)], buckets: Self.buckets).record(duration)
    }

    /// Counts a request refused 429 because its client failed authentication too often (`audited`: the one refusal
    /// of the burst that was recorded in the audit trail).
    func authenticationLimited(audited: Bool) {
        registry.makeCounter(descriptor: Self.authenticationLimited, labels: [("audited", audited ? "true" : "false")]).increment()
    }

    /// Counts a vetted query run by outcome (`released`, a denial reason, or a failure code).
    func queryRun(outcome: String) {
        registry.makeCounter(descriptor: Self.queryRuns, labels: [("outcome", outcome)]).increment()
    }

    /// Counts a vetted query run's statistics lookup: `hit` when they came from the statistics cache.
    @Sendable public func statisticsLookup(hit: Bool) {
        registry.makeCounter(descriptor: Self.cacheLookups, labels: [("result", hit ? "hit" : "miss")]).increment()
    }

    /// The Prometheus text exposition, with the statistics cache's size when there is one.
    func exposition(cache: StatisticsCache?) -> [UInt8] {
        if let cache {
            let size = cache.size
            registry.makeGauge(descriptor: Self.cacheEntries).set(to: Double(size.entries))
            registry.makeGauge(descriptor: Self.cacheCells).set(to: Double(size.cells))
        }
        return registry.emitToBuffer()
    }

    private static var requests: MetricNameDescriptor {
        descriptor("http", "requests", "total", "HTTP requests served, by route template, method and status")
    }
    private static var requestDuration: MetricNameDescriptor {
        descriptor("http", "request_duration", "seconds", "Time to serve an HTTP request, by route template")
    }
    private static var authenticationLimited: MetricNameDescriptor {
        descriptor(
            "authentication", "limited", "total",
            "Requests refused with too_many_requests because their client failed authentication too often "
                + "(audited=true: the one refusal of a burst that was audited)")
    }
    private static var queryRuns: MetricNameDescriptor {
        descriptor("query", "runs", "total", "Vetted query runs by outcome (released, denial reason or failure code)")
    }
    private static var cacheLookups: MetricNameDescriptor {
        descriptor("statistics_cache", "lookups", "total", "Vetted query runs by whether their statistics came from the cache (hit) or the statement (miss)")
    }
    private static var cacheEntries: MetricNameDescriptor {
        descriptor("statistics_cache", "entries", "", "Vetted queries whose statistics are cached")
    }
    private static var cacheCells: MetricNameDescriptor { descriptor("statistics_cache", "cells", "", "Cells the statistics cache holds") }

    /// A descriptor in the `sde` namespace (computed: descriptors are not `Sendable`, so they cannot be stored statics).
    private static func descriptor(_ subsystem: String, _ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "sde", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
    }

    private static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
    ]
}

/// Records every request in ``BrokerMetrics`` under its route template (`unmatched` when no route matched).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = BrokerContext
    let metrics: BrokerMetrics

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.requestServed(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
                duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.requestServed(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
