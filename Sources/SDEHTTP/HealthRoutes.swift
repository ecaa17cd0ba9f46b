import Hummingbird
import SDECommon
import SDEService

extension BrokerAPI {
    /// `GET /healthz` (the process answers), `GET /readyz` (database, a valid policy set and the audit store all
    /// reachable) and `GET /metrics` (Prometheus text). None needs a token, none returns personal data.
    var healthRoutes: [Route] {
        [
            Route(.get, "/healthz") { _, _ in Response.json(.object(["status": .string("ok")])) },
            Route(.get, "/readyz") { _, _ in
                let checks = await broker.readiness()
                let failing = checks.filter { !$0.ready }.map(\.name)
                guard failing.isEmpty else {
                    throw APIError(.serviceUnavailable, "not_ready", "Not ready: \(failing.joined(separator: ", ")) unavailable.")
                }
                return Response.json(
                    .object(["status": .string("ready"), "checks": .object(Dictionary(uniqueKeysWithValues: checks.map { ($0.name, .string("ok")) }))]))
            },
            Route(.get, "/metrics") { _, _ in
                Response.bytes(metrics.exposition(cache: broker.pipeline.cache), contentType: "text/plain; version=0.0.4; charset=utf-8")
            },
        ]
    }
}
