import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import SDEAudit
import SDECommon
import SDEHTTP
import SDEPolicy
import SDEServer
import SDEService
import SDEStore
import Testing

/// End-to-end tests of the HTTP API over a real PostgreSQL and the example policy set: the application `serve` builds,
/// driven through its router (`.router`) or over a socket (`.live`).
@Suite struct HTTPAPITests {
    /// Over a real socket: the server the application runs answers on loopback.
    @Test func healthReadinessAndMetricsNeedNoTokenAndCarryNoPersonalData() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.live) { client in
                #expect(try await client.request(.get, "/healthz").status == 200)
                let ready = try await client.request(.get, "/readyz")
                #expect(ready.status == 200)
                #expect((ready.json["checks"] as? [String: String]) == ["database": "ok", "policy": "ok", "audit": "ok"])
                let token = try await broker.token(for: "r-priya-shah")
                _ = try await client.request(.get, "/v1/me", token: token)
                let metrics = try await client.request(.get, "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.text.contains(#"sde_http_requests_total{route="/v1/me",method="GET",status="200"} 1"#))
                #expect(!metrics.text.contains("r-priya-shah"), "no user in a label")
            }
        }
    }

    /// A repeated run is answered from the statistics cache with the same body but a new audit event; `/metrics`
    /// counts the lookups and reports the cache's size.
    @Test func aRepeatedRunComesFromTheStatisticsCacheAndMetricsCountIt() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let token = try await broker.token(for: "r-priya-shah")
                var replies: [Reply] = []
                for _ in 0..<3 {
                    replies.append(try await client.run("P2025-002", "requests-by-la-quarter", ["from": "2024Q1", "to": "2024Q2"], token: token))
                }
                #expect(replies.allSatisfy { $0.status == 200 })
                #expect(Set(replies.map(\.auditSequence)).count == 3, "every run is audited")
                // Canonical JSON: the audit member comes first; everything after it is the same table, byte for byte.
                let tables = replies.map { $0.text.replacing(#/^\{"audit":\{[^}]*\},/#, with: "") }
                #expect(tables[0].hasPrefix(#""dimensions":"#))
                #expect(tables.dropFirst().allSatisfy { $0 == tables[0] })
                let metrics = try await client.request(.get, "/metrics").text
                #expect(metrics.contains(#"sde_statistics_cache_lookups_total{result="miss"} 1"#))
                #expect(metrics.contains(#"sde_statistics_cache_lookups_total{result="hit"} 2"#))
                #expect(metrics.contains("sde_statistics_cache_entries 1"))
            }
        }
    }

    @Test func aResearcherSeesTheirProjectsQueriesAndGetsAProtectedTable() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let token = try await broker.token(for: "r-priya-shah")
                let me = try await client.request(.get, "/v1/me", token: token)
                #expect(me.status == 200)
                #expect(me.json["user"] as? String == "r-priya-shah")
                let projects = (me.json["projects"] as? [[String: Any]]) ?? []
                let usable = Dictionary(uniqueKeysWithValues: projects.map { ($0["id"] as? String ?? "", $0["usable"] as? Bool ?? true) })
                #expect(usable["P2025-002"] == true)
                #expect(usable["P2023-004"] == false, "an expired project is listed as not usable")
                #expect(usable["P2025-005"] == false, "a suspended project is listed as not usable")

                let queries = try await client.request(.get, "/v1/projects/P2025-002/queries", token: token)
                #expect(queries.status == 200)
                let listed = (queries.json["queries"] as? [[String: Any]]) ?? []
                #expect(
                    Set(listed.compactMap { $0["id"] as? String }) == [
                        "requests-by-la-quarter", "waits-by-la-quarter", "waits-by-region-support-reason",
                    ])
                let from = (listed.first { $0["id"] as? String == "requests-by-la-quarter" }?["parameters"] as? [[String: Any]])?.first {
                    $0["name"] as? String == "from"
                }
                #expect(from?["type"] as? String == "quarter" && from?["pattern"] as? String == "^[0-9]{4}Q[1-4]$")

                let run = try await client.run("P2025-002", "requests-by-la-quarter", ["from": "2024Q1", "to": "2024Q2"], token: token)
                #expect(run.status == 200)
                #expect(run.headers["content-type"]?.hasPrefix("application/json") == true)
                let event = try #require(try await broker.event(run.auditSequence))
                #expect(event.action == .queryRun && event.outcome == .allowed && event.actor == "r-priya-shah")
                #expect((run.json["audit"] as? [String: Any])?["sequence"] as? Int == Int(event.sequence))
                // The audited digest is the document's without its audit member.
                var document = run.json
                document.removeValue(forKey: "audit")
                let rows = try #require(document["rows"] as? [[String: Any]])
                #expect(!rows.isEmpty)
                for row in rows {
                    for (_, cell) in (row["cells"] as? [String: [String: Any]]) ?? [:] {
                        let suppressed = cell["status"] as? String == "suppressed"
                        #expect(suppressed == (cell["value"] is NSNull), "a suppressed cell has a null value, never 0")
                    }
                }
                #expect(try await broker.audit.verify(broker.db).isIntact)
            }
        }
    }

    @Test func csvAndJSONCarryTheSameCells() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let token = try await broker.token(for: "r-priya-shah")
                let parameters = ["from": "2024Q1", "to": "2024Q1"]
                let json = try await client.run("P2025-002", "requests-by-la-quarter", parameters, token: token)
                let csv = try await client.request(
                    .post, "/v1/projects/P2025-002/queries/requests-by-la-quarter/runs?format=csv", token: token,
                    body: try JSONSerialization.data(withJSONObject: ["parameters": parameters]))
                let accepted = try await client.run("P2025-002", "requests-by-la-quarter", parameters, token: token, accept: "text/csv")
                #expect(json.status == 200 && csv.status == 200 && accepted.status == 200)
                #expect(csv.headers["content-type"]?.hasPrefix("text/csv") == true)
                #expect(csv.text == accepted.text)
                let dimensions = try #require(json.json["dimensions"] as? [String])
                let measures = try #require(json.json["measures"] as? [String])
                var fromJSON: [[String]] = []
                for row in try #require(json.json["rows"] as? [[String: Any]]) {
                    let keys = row["dimensions"] as? [String: Any] ?? [:]
                    let cells = row["cells"] as? [String: [String: Any]] ?? [:]
                    var fields = dimensions.map { keys[$0] as? String ?? "" }
                    for measure in measures {
                        let cell = cells[measure] ?? [:]
                        fields.append((cell["value"] as? NSNumber).map { "\($0)" } ?? "")
                        let status = cell["status"] as? String ?? ""
                        #expect(cell["rule"] == nil, "a suppressed cell names no rule")
                        fields.append(status)
                    }
                    fromJSON.append(fields)
                }
                let lines = csv.text.split(whereSeparator: \.isNewline).map {
                    $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                }
                #expect(lines.first == dimensions + measures.flatMap { [$0, $0 + "_status"] })
                #expect(Array(lines.dropFirst()) == fromJSON)
            }
        }
    }

    @Test func everyAuthenticationFailureIs401AndAudited() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let revoked = try await broker.token(for: "r-priya-shah")
                let revokedID = try #require(revoked.split(separator: "_").dropFirst().first.map(String.init))
                #expect(try await TokenStore.revoke(id: revokedID, on: broker.db))
                let expired = try await broker.token(for: "r-priya-shah", expires: TestBroker.today.adding(days: -1))
                let valid = try await broker.token(for: "r-priya-shah")
                let wrongSecret = String(valid.dropLast(4)) + (valid.hasSuffix("0000") ? "1111" : "0000")
                let cases: [(String?, [String: String], String)] = [
                    (nil, [:], "token_missing"),
                    (nil, ["Authorization": "Basic cm9vdDpyb290"], "token_malformed"),
                    ("not-a-token", [:], "token_malformed"),
                    (wrongSecret, [:], "token_unknown"),
                    (revoked, [:], "token_revoked"),
                    (expired, [:], "token_expired"),
                ]
                for (token, headers, reason) in cases {
                    let reply = try await client.request(.get, "/v1/me", token: token, headers: headers)
                    #expect(reply.status == 401, "\(reason)")
                    #expect(reply.errorCode == "unauthenticated")
                    #expect(reply.headers["www-authenticate"] == "Bearer")
                    #expect(reply.json["user"] == nil && reply.json["projects"] == nil, "nothing of the resource")
                    let event = try #require(try await broker.event(reply.auditSequence))
                    #expect(event.action == .authFailed && event.outcome == .denied && event.reason == reason && event.actor == "anonymous")
                }
                #expect(try await client.request(.get, "/v1/me", token: valid).status == 200)
            }
        }
    }

    @Test func everyPolicyDenialHasItsStatusAndCodeAndIsAudited() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let priya = try await broker.token(for: "r-priya-shah")
                let amara = try await broker.token(for: "r-amara-bello")
                let tom = try await broker.token(for: "r-tom-okafor")
                let helen = try await broker.token(for: "ig-helen-moore")
                let window = ["from": "2024Q1", "to": "2024Q1"]
                let cases: [(token: String, project: String, query: String, parameters: [String: String], status: Int, code: String)] = [
                    (helen, "P2025-002", "requests-by-la-quarter", window, 403, "forbidden"),
                    (amara, "P2025-001", "discharge-reablement-by-la", window, 403, "not_a_member"),
                    (tom, "P2025-001", "discharge-reablement-by-la", window, 403, "training_expired"),
                    (priya, "P2023-004", "discharge-reablement-by-la", window, 403, "project_expired"),
                    (priya, "P2025-005", "discharge-destinations-by-age", window, 403, "project_suspended"),
                    (priya, "P2025-002", "home-care-cost-by-support-reason", window, 403, "query_not_in_project"),
                    (priya, "P9999-999", "requests-by-la-quarter", window, 404, "unknown_project"),
                    (priya, "P2025-002", "requests-by-la-quarter", ["from": "2023Q9", "to": "2024Q1"], 422, "parameter_invalid"),
                    (priya, "P2025-002", "requests-by-la-quarter", ["from": "2024Q1", "to": "2024Q1", "sex": "F"], 422, "parameter_unknown"),
                ]
                for item in cases {
                    let reply = try await client.run(item.project, item.query, item.parameters, token: item.token)
                    #expect(reply.status == item.status, "\(item.code)")
                    #expect(reply.errorCode == item.code)
                    #expect(reply.json["rows"] == nil)
                    let event = try #require(try await broker.event(reply.auditSequence), "\(item.code) audited")
                    #expect(event.outcome == .denied && event.action == .queryDenied && event.outputDigest == nil)
                    #expect(event.reason == (item.code == "forbidden" ? "wrong_role" : item.code))
                }
                // Routes for other roles.
                let listing = try await client.request(.get, "/v1/projects/P2025-003/queries", token: priya)
                #expect(listing.status == 403 && listing.errorCode == "not_a_member")
                let audit = try await client.request(.get, "/v1/audit", token: priya)
                #expect(audit.status == 403 && audit.errorCode == "forbidden")
                let releases = try await client.request(.get, "/v1/releases", token: priya)
                #expect(releases.status == 403 && releases.errorCode == "forbidden")
                for reply in [listing, audit, releases] { #expect(try await broker.event(reply.auditSequence)?.outcome == .denied) }
                #expect(try await broker.audit.verify(broker.db).isIntact)
            }
        }
    }

    @Test func injectionAttemptsAreRejectedOrHarmless() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let token = try await broker.token(for: "r-priya-shah")
                let before = try await Self.counts(broker.db)
                let nasty = [
                    "2024Q1'; DROP TABLE linked.person;--", "2024Q1 /* comment */", "2024Q1\u{0000}", "２０２４Q1", "' OR '1'='1",
                    String(repeating: "9", count: 400), "2024Q1\"); SELECT pg_sleep(10);--",
                ]
                for value in nasty {
                    let reply = try await client.run("P2025-002", "requests-by-la-quarter", ["from": value, "to": "2024Q1"], token: token)
                    #expect(reply.status == 422 && reply.errorCode == "parameter_invalid")
                    #expect(!reply.text.contains("SELECT") && !reply.text.contains("linked."), "no SQL in an error")
                }
                let bodies: [(String, String)] = [
                    (#"{"parameters": {"from": 2024, "to": "2024Q1"}}"#, "parameter_invalid"),
                    (#"{"parameters": {"from": 1e999999, "to": "2024Q1"}}"#, "body_invalid"),
                    (#"{"parameters": {"from": "2024Q1", "to": "2024Q1"}, "sql": "SELECT 1"}"#, "body_invalid"),
                    (#"{"parameters": ["2024Q1"]}"#, "body_invalid"),
                    (#"{"parameters": {"from": "2024Q1"#, "body_invalid"),
                    (#"["parameters"]"#, "body_invalid"),
                ]
                for (body, code) in bodies {
                    let reply = try await client.request(
                        .post, "/v1/projects/P2025-002/queries/requests-by-la-quarter/runs", token: token, body: Data(body.utf8))
                    #expect(reply.errorCode == code, "\(body)")
                    #expect([400, 422].contains(reply.status))
                }
                // The body cap at its boundary: exactly the limit is read (and refused for its parameter), one byte more is 413.
                func body(_ size: Int) -> Data {
                    let frame = "{\"parameters\": {\"to\": \"2024Q1\", \"from\": \"\"}}"
                    return Data(
                        ("{\"parameters\": {\"to\": \"2024Q1\", \"from\": \"" + String(repeating: "A", count: size - frame.utf8.count) + "\"}}").utf8)
                }
                let runs = "/v1/projects/P2025-002/queries/requests-by-la-quarter/runs"
                let atLimit = try await client.request(.post, runs, token: token, body: body(APIRequestLimits.maxBodyBytes))
                #expect(atLimit.status == 422 && atLimit.errorCode == "parameter_invalid")
                let overLimit = try await client.request(.post, runs, token: token, body: body(APIRequestLimits.maxBodyBytes + 1))
                #expect(overLimit.status == 413 && overLimit.errorCode == "body_too_large")
                let huge = try await client.request(.post, runs, token: token, body: body(64 * 1024))
                #expect(huge.status == 413 && huge.errorCode == "body_too_large")
                let paths = [
                    "/v1/projects/P2025-002'%3B--/queries", "/v1/projects/%E2%80%AEP2025-002/queries",
                    "/v1/projects/P2025-002/queries/..%2F..%2Fme/runs",
                    "/v1/releases/x'%20OR%201=1--", "/v1/projects/P2025-002/queries?format=json%27;--",
                ]
                for path in paths {
                    let post = path.hasSuffix("/runs")
                    let reply = try await client.request(post ? .post : .get, path, token: token, body: post ? Data("{}".utf8) : nil)
                    #expect([400, 403, 404, 422].contains(reply.status), "\(path)")
                    #expect(reply.errorCode != nil && reply.errorCode != "internal_error")
                }
                let unknownRoute = try await client.request(.get, "/v1/../../etc/passwd", token: token)
                #expect(unknownRoute.status == 404)
                #expect(try await Self.counts(broker.db) == before, "nothing was changed")
                #expect(try await broker.audit.verify(broker.db).isIntact)
            }
        }
    }

    /// Through the router: 32 requests, 8 in flight at a time as a client's connection pool would send them (all 32 at
    /// once queue on one dataset's ledger lock for longer than its timeout on a loaded 2-core machine).
    @Test func concurrentRequestsKeepOneGaplessAuditChain() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let token = try await broker.token(for: "r-priya-shah")
                let start = try await broker.lastAuditSequence()
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    var statuses: [Int] = []
                    for n in 0..<32 {
                        if n >= 8, let status = try await group.next() { statuses.append(status) }
                        group.addTask {
                            n % 4 == 3
                                ? try await client.request(.get, "/v1/me", token: "bad").status
                                : try await client.run(
                                    "P2025-002", "requests-by-la-quarter", ["from": "2024Q\(n % 4 + 1)", "to": "2024Q4"], token: token
                                ).status
                        }
                    }
                    return try await group.reduce(into: statuses) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 200 }.count == 24, "\(statuses.sorted())")
                #expect(statuses.filter { $0 == 401 }.count == 8)
                var sequences: [Int64] = []
                try await AuditEvents.forEach(in: broker.db) { if $0.sequence > start { sequences.append($0.sequence) } }
                #expect(sequences == Array((start + 1)...(start + Int64(sequences.count))))
                #expect(sequences.count >= 32)
                #expect(try await broker.audit.verify(broker.db).isIntact)
            }
        }
    }

    @Test func regulatorsReadStoredReleasesPublishedToThemOnly() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let cqc = try await broker.token(for: "reg-james-cole")
                let oflog = try await broker.token(for: "reg-sara-ahmed")
                let release = "cqc-requests-by-la-2024-25"
                let before = try await client.request(.get, "/v1/releases/\(release)", token: cqc)
                #expect(before.status == 404 && before.errorCode == "release_not_published")
                #expect(try await broker.event(before.auditSequence)?.reason == "release_not_published")

                // An operator publishes from the command line beside the running server: its own audit trail on the same
                // database, mirror directory and key.
                let versions = try await broker.configuration.withBroker(logger: TestPostgres.logger) { cli in
                    var versions: [Int] = []
                    for _ in 0..<2 { versions.append(try await cli.publisher.publish(caller("op-dan-wright"), release: release).stored.version) }
                    return versions
                }
                #expect(versions == [1, 2])
                let listing = try await client.request(.get, "/v1/releases", token: cqc)
                #expect(listing.status == 200)
                let listed = (listing.json["releases"] as? [[String: Any]]) ?? []
                #expect(
                    Set(listed.compactMap { $0["id"] as? String }) == ["cqc-requests-by-la-2024-25", "cqc-waits-by-la-2024-25"], "only CQC's releases"
                )
                #expect((listed.first { $0["id"] as? String == release }?["latest"] as? [String: Any])?["version"] as? Int == 2)

                let latest = try await client.request(.get, "/v1/releases/\(release)", token: cqc)
                #expect(latest.status == 200 && latest.headers["sde-release-version"] == "2")
                #expect(latest.headers["sde-release-sha256"] == AuditDigest.sha256(of: Array(latest.body)).hex, "the stored bytes, unchanged")
                let read = try #require(try await broker.event(latest.auditSequence))
                #expect(
                    read.action == .releaseRead && read.actor == "reg-james-cole" && read.outputDigest == AuditDigest.sha256(of: Array(latest.body)))
                // The signed checkpoint the version was written under comes with it, for the regulator to keep.
                let carried = try #require(latest.headers["sde-audit-checkpoint"].flatMap { Data(base64Encoded: $0) })
                #expect(try AuditTreeHead(note: String(decoding: carried, as: UTF8.self), verifiedBy: broker.audit.key.publicKey).size > 0)
                let first = try await client.request(.get, "/v1/releases/\(release)?version=1&format=csv", token: cqc)
                #expect(
                    first.status == 200 && first.headers["sde-release-version"] == "1" && first.headers["content-type"]?.hasPrefix("text/csv") == true
                )
                let missing = try await client.request(.get, "/v1/releases/\(release)?version=9", token: cqc)
                #expect(missing.status == 404 && missing.errorCode == "release_not_published")
                let badVersion = try await client.request(.get, "/v1/releases/\(release)?version=0", token: cqc)
                #expect(badVersion.status == 422)

                let otherAudience = try await client.request(.get, "/v1/releases/\(release)", token: oflog)
                #expect(otherAudience.status == 403 && otherAudience.errorCode == "not_in_audience" && otherAudience.json["rows"] == nil)
                let unknown = try await client.request(.get, "/v1/releases/no-such-release", token: cqc)
                #expect(unknown.status == 404 && unknown.errorCode == "unknown_release")
                let researcher = try await client.request(.get, "/v1/releases/\(release)", token: try await broker.token(for: "r-priya-shah"))
                #expect(researcher.status == 403 && researcher.errorCode == "forbidden")
                #expect(try await broker.audit.verify(broker.db).isIntact)
            }
        }
    }

    @Test func igOfficersSearchTheAuditTrail() async throws {
        try await TestBroker.with { broker, app in
            try await app.test(.router) { client in
                let helen = try await broker.token(for: "ig-helen-moore")
                _ = try await client.request(.get, "/v1/me", token: "sde_nope")
                _ = try await client.request(.get, "/v1/me")
                let failures = try await client.request(.get, "/v1/audit?action=auth.failed&outcome=denied", token: helen)
                #expect(failures.status == 200)
                let events = try #require(try JSONSerialization.jsonObject(with: failures.body) as? [[String: Any]])
                #expect(events.count == 2 && events.allSatisfy { $0["action"] as? String == "auth.failed" })
                let csv = try await client.request(.get, "/v1/audit?actor=anonymous&format=csv&limit=1", token: helen)
                #expect(csv.status == 200 && csv.text.split(whereSeparator: \.isNewline).count == 2, "a header and one event")
                let read = try #require(try await broker.event(csv.auditSequence))
                #expect(read.action == .auditRead && read.outputDigest == AuditDigest.sha256(of: Array(csv.body)))
                let bad = try await client.request(.get, "/v1/audit?since=yesterday", token: helen)
                #expect(bad.status == 422 && bad.errorCode == "parameter_invalid")
                let atCap = try await client.request(.get, "/v1/audit?limit=\(APIRequestLimits.maxAuditEvents)", token: helen)
                #expect(atCap.status == 200)
                for limit in ["0", String(APIRequestLimits.maxAuditEvents + 1)] {
                    let refused = try await client.request(.get, "/v1/audit?limit=\(limit)", token: helen)
                    #expect(refused.status == 422 && refused.errorCode == "parameter_invalid", "limit=\(limit)")
                }
                let unknown = try await client.request(.get, "/v1/audit?projct=P2025-002", token: helen)
                #expect(unknown.status == 400 && unknown.errorCode == "query_parameter_unknown")
            }
        }
    }

    @Test func aSlowQueryGetsATimeoutErrorNotAHungConnection() async throws {
        try await TestBroker.with(configure: { $0.executor = QueryExecutor(statementTimeout: .milliseconds(1)) }) { broker, app in
            try await app.test(.router) { client in
                let token = try await broker.token(for: "r-priya-shah")
                let clock = ContinuousClock()
                let start = clock.now
                let reply = try await client.run("P2025-002", "waits-by-la-quarter", ["from": "2023Q2", "to": "2025Q1"], token: token)
                #expect(clock.now - start < .seconds(10))
                #expect(reply.status == 504 && reply.errorCode == "query_timeout")
                let event = try #require(try await broker.event(reply.auditSequence))
                #expect(event.outcome == .error && event.reason == "query_timeout" && event.outputDigest == nil)
            }
        }
    }

    /// Row counts of the linked tables (an injection that wrote anything would change one).
    static func counts(_ db: DatabaseSession) async throws -> [Int] {
        var counts: [Int] = []
        for table in ["linked.person", "linked.care_event", "linked.hospital_spell", "linked.local_authority"] {
            let rows = try await db.query(PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(table)"), "count")
            for try await n in rows.decode(Int64.self) { counts.append(Int(n)) }
        }
        return counts
    }
}
