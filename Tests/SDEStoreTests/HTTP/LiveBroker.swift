import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import PostgresNIO
import SDEAudit
import SDECommon
import SDEHTTP
import SDEPolicy
import SDEIngest
import SDEStore
import ServiceLifecycle
import Testing

/// A live broker API on a loopback port, over a fresh test database with a small synthetic extract ingested, the
/// example policy set and its own audit trail; and a plain HTTP client to call it.
struct LiveBroker {
    static let today = CivilDate(year: 2026, month: 11, day: 26)!

    let baseURL: String
    let config: DatabaseConfig
    let db: DatabaseSession
    let trail: AuditTrail
    let fixture: AuditTrailTests.Fixture
    /// `METHOD /path` of every route the server serves.
    let routeList: [String]

    /// Starts the server, runs `body`, stops the server and closes the trail.
    static func with(
        persons: Int = 2000, policies: PolicyRegistry? = nil, executor: QueryExecutor = QueryExecutor(), _ body: (LiveBroker) async throws -> Void
    ) async throws {
        let scratch = try IngestTests.Scratch(persons: persons, seed: 33)
        let fixture = AuditTrailTests.Fixture()
        defer {
            scratch.remove()
            fixture.remove()
        }
        try await TestPostgres.withDatabase { config, db in
            _ = try await scratch.ingestor().ingest(directory: scratch.extracts, db: db)
            let trail = try await fixture.open(config)
            try await serve(
                config: config, db: db, trail: trail, fixture: fixture,
                policies: try policies ?? PolicyRegistry(.valid(try QueryExecutionTests.policy())), executor: executor, body)
            await trail.close()
        }
    }

    /// Serves the API over `db` (already migrated and loaded) with `trail` on a loopback port while `body` runs, then
    /// shuts it down gracefully, as SIGTERM does. Like `serve`, it keeps a statistics cache (0 cells: none).
    static func serve(
        config: DatabaseConfig, db: DatabaseSession, trail: AuditTrail, fixture: AuditTrailTests.Fixture, policies: PolicyRegistry,
        executor: QueryExecutor = QueryExecutor(), statisticsCacheCells: Int = 200_000,
        _ body: (LiveBroker) async throws -> Void
    ) async throws {
        var pool = config.clientConfiguration
        pool.options.maximumConnections = 8  // many tests serve at once on one test cluster
        let client = PostgresClient(configuration: pool, backgroundLogger: TestPostgres.logger)
        let api = BrokerAPI(
            policies: policies,
            connections: .pooled(client, logger: TestPostgres.logger), trail: trail, executor: executor,
            statisticsCacheCells: statisticsCacheCells, today: { today }, logger: TestPostgres.logger)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: api.router(), configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }, logger: TestPostgres.logger)
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: client), .init(service: app)], logger: TestPostgres.logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let broker = LiveBroker(baseURL: "http://127.0.0.1:\(port)", config: config, db: db, trail: trail, fixture: fixture, routeList: api.routeList)
            do {
                try await body(broker)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            // The same graceful shutdown as SIGTERM: in-flight requests finish, then the server and the pool stop.
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// Issues a token for `user` (valid until `expires`).
    func token(for user: String, expires: CivilDate = LiveBroker.today.adding(days: 30)) async throws -> String {
        try await TokenStore.issue(user: user, expires: expires, on: db).token
    }

    /// A response: status, headers and body.
    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The error code of an error response.
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        /// The audit event the response names.
        var auditSequence: Int64? { headers["sde-audit-sequence"].flatMap { Int64($0) } }
    }

    /// Sends a request; `path` may carry a query string.
    func request(
        _ method: String, _ path: String, token: String? = nil, body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        guard let url = URL(string: baseURL + path) else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    /// `POST /v1/projects/P/queries/Q/runs` with `{"parameters": parameters}`.
    func run(_ project: String, _ query: String, _ parameters: [String: String], token: String?, accept: String? = nil) async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: ["parameters": parameters])
        return try await request(
            "POST", "/v1/projects/\(project)/queries/\(query)/runs", token: token, body: body, headers: accept.map { ["Accept": $0] } ?? [:])
    }

    /// The audit event with sequence number `sequence`, from the database store.
    func event(_ sequence: Int64?) async throws -> AuditEvent? {
        guard let sequence else { return nil }
        let rows = try await db.query("SELECT line FROM broker.audit_event WHERE sequence = \(sequence)", "read an audit event")
        var found: AuditEvent?
        for try await line in rows.decode(String.self) { found = try AuditJSONL.decode(line) }
        return found
    }
}
