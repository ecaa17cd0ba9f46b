import Hummingbird
import SDECommon
import SDEPolicy
import SDEStore

extension BrokerAPI {
    /// `GET /healthz` (the process answers), `GET /readyz` (database, a valid policy set and the audit store all
    /// reachable) and `GET /metrics` (Prometheus text). None needs a token, none returns personal data.
    var healthRoutes: [Route] {
        [
            Route(.get, "/healthz") { _, _ in Response.json(.object(["status": .string("ok")])) },
            Route(.get, "/readyz") { _, _ in try await readiness() },
            Route(.get, "/metrics") { _, _ in
                Response.bytes(metrics.exposition(cache: statistics), contentType: "text/plain; version=0.0.4; charset=utf-8")
            }
        ]
    }

    private func readiness() async throws -> Response {
        async let database = connections.answers(within: .seconds(2))
        async let audit = trail.probe()
        let policy = await policies.state.isReady
        let checks: [(String, Bool)] = [("database", await database), ("policy", policy), ("audit", await audit)]
        let failing = checks.filter { !$0.1 }.map(\.0)
        guard failing.isEmpty else {
            throw APIError(.serviceUnavailable, "not_ready", "Not ready: \(failing.joined(separator: ", ")) unavailable.")
        }
        return Response.json(.object(["status": .string("ready"), "checks": .object(Dictionary(uniqueKeysWithValues: checks.map { ($0.0, .string("ok")) }))]))
    }
}
