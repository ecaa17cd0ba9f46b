import Foundation
import HTTPTypes
import HummingbirdTesting
import SDEAudit
import SDECommon
import SDEDisclosure
import SDEHTTP
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// The HTTP API over fakes: statuses and codes for every kind of service outcome, the audit headers, the request
/// checks the API makes itself, and the health routes.
@Suite struct HTTPAPITests {
    static let window = ["from": "2024Q1", "to": "2024Q2"]

    /// How a request can present a token that does not authenticate.
    enum Presented: String, CaseIterable, Sendable {
        case noHeader, basic, malformed, unknown, expired, revoked
    }

    @Test(arguments: Presented.allCases)
    func aRequestWithoutAValidTokenIs401WithABearerChallengeAndAudited(_ presented: Presented) async throws {
        try await API.test { client, fake in
            var headers = HTTPFields()
            var token: String?
            switch presented {
            case .noHeader: break
            case .basic: headers[.authorization] = "Basic cmVzOnJlcw=="
            case .malformed: token = "not-a-token"
            case .unknown: token = "sde_0123456789abcdef_" + String(repeating: "a", count: 64)
            case .expired: token = try await fake.token(for: "res", expires: fake.today.adding(days: -1))
            case .revoked:
                let issued = try await fake.tokens.issue(user: "res", expires: fake.today)
                _ = try await fake.tokens.revoke(id: issued.id)
                token = issued.token
            }
            let reply = try await client.send(.get, "/v1/me", token: token, headers: headers)
            #expect(reply.status == .unauthorized && reply.errorCode == "unauthenticated")
            #expect(reply.headers[.wwwAuthenticate] == "Bearer")
            #expect(reply.json["user"] == nil, "nothing of the resource")
            let event = try #require(fake.trail.event(reply.auditSequence), "the refusal is audited and named")
            #expect(event.action == .authFailed && event.actor == "anonymous" && event.outcome == .denied)
            #expect(event.reason?.hasPrefix("token_") == true)
        }
    }

    /// One kind of service outcome, how to provoke it, and the status and code it must get.
    enum Outcome: String, CaseIterable, Sendable {
        case wrongRole, notAMember, unknownProject, unknownQuery, unknownRelease, parameterInvalid, parameterMissing, parameterUnknown
        case policyInvalid, auditUnavailable, queryTimeout, databaseUnavailable, releaseNotPublished, notInAudience
        case tooManyCells, disclosureFailed, internalError

        var status: HTTPResponse.Status {
            switch self {
            case .wrongRole, .notAMember, .notInAudience: .forbidden
            case .unknownProject, .unknownQuery, .unknownRelease, .releaseNotPublished: .notFound
            case .parameterInvalid, .parameterMissing, .parameterUnknown, .tooManyCells, .disclosureFailed: .unprocessableContent
            case .policyInvalid, .auditUnavailable, .databaseUnavailable: .serviceUnavailable
            case .queryTimeout: .gatewayTimeout
            case .internalError: .internalServerError
            }
        }

        var code: String {
            switch self {
            case .wrongRole: "forbidden"
            case .notAMember: "not_a_member"
            case .unknownProject: "unknown_project"
            case .unknownQuery: "unknown_query"
            case .unknownRelease: "unknown_release"
            case .parameterInvalid: "parameter_invalid"
            case .parameterMissing: "parameter_missing"
            case .parameterUnknown: "parameter_unknown"
            case .policyInvalid: "policy_invalid"
            case .auditUnavailable: "audit_unavailable"
            case .queryTimeout: "query_timeout"
            case .databaseUnavailable: "database_unavailable"
            case .releaseNotPublished: "release_not_published"
            case .notInAudience: "not_in_audience"
            case .tooManyCells: "too_many_cells"
            case .disclosureFailed: "disclosure_audit_failed"
            case .internalError: "internal_error"
            }
        }

        /// The outcome its audit event records: a policy refusal is `denied`, a failure after access `error`.
        var audited: AuditOutcome {
            switch self {
            case .auditUnavailable, .queryTimeout, .databaseUnavailable, .releaseNotPublished, .tooManyCells, .disclosureFailed, .internalError:
                .error
            default: .denied
            }
        }

        /// Sends the request that gets this outcome.
        func provoke(_ client: any TestClientProtocol, _ fake: FakeBroker) async throws -> TestResponse {
            let researcher = try await fake.token(for: "res")
            let regulator = try await fake.token(for: "reg")
            switch self {
            case .wrongRole: return try await client.run("p1", "q1", window, token: try await fake.token(for: "ig"))
            case .notAMember: return try await client.run("p1", "q1", window, token: try await fake.token(for: "res2"))
            case .unknownProject: return try await client.run("p9", "q1", window, token: researcher)
            case .unknownQuery: return try await client.run("p1", "q9", window, token: researcher)
            case .unknownRelease: return try await client.send(.get, "/v1/releases/r9", token: regulator)
            case .parameterInvalid: return try await client.run("p1", "q1", ["from": "2023Q9", "to": "2024Q1"], token: researcher)
            case .parameterMissing: return try await client.run("p1", "q1", ["from": "2024Q1"], token: researcher)
            case .parameterUnknown: return try await client.run("p1", "q1", ["from": "2024Q1", "to": "2024Q1", "sex": "F"], token: researcher)
            case .policyInvalid:
                var broken = PolicyFixture.standard
                broken.files["datasets.yaml"] = "datasets: {\n"
                let sources = try broken.sources()
                await fake.policies.reload { () throws(PolicyError) in try PolicySet.load(sources, reference: PolicyFixture.reference) }
                return try await client.run("p1", "q1", window, token: researcher)
            case .auditUnavailable:
                fake.trail.failWrites(with: .auditUnavailable)
                return try await client.run("p1", "q1", window, token: researcher)
            case .queryTimeout:
                fake.store.fail(.statement, with: .queryTimeout)
                return try await client.run("p1", "q1", window, token: researcher)
            case .databaseUnavailable:
                fake.store.fail(.ledgerRead, with: .databaseUnavailable)
                return try await client.run("p1", "q1", window, token: researcher)
            case .releaseNotPublished: return try await client.send(.get, "/v1/releases/r1", token: regulator)
            case .notInAudience: return try await client.send(.get, "/v1/releases/r1", token: try await fake.token(for: "reg2"))
            case .tooManyCells:
                fake.store.fail(.statement, with: PortFailure(.tooManyCells, "the table would have too many cells"))
                return try await client.run("p1", "q1", window, token: researcher)
            case .disclosureFailed:
                fake.store.setStatistics(of: "q1") { _ in throw DisclosureError.auditFailed("row 3 could be narrowed") }
                return try await client.run("p1", "q1", window, token: researcher)
            case .internalError:
                struct Unexpected: Error {}
                fake.store.setStatistics(of: "q1") { _ in throw Unexpected() }
                return try await client.run("p1", "q1", window, token: researcher)
            }
        }
    }

    @Test(arguments: Outcome.allCases)
    func everyServiceOutcomeHasItsStatusAndCodeAndNamesItsAuditEvent(_ outcome: Outcome) async throws {
        try await API.test { client, fake in
            let reply = try await outcome.provoke(client, fake)
            #expect(reply.status == outcome.status)
            #expect(reply.errorCode == outcome.code)
            #expect(reply.json["rows"] == nil && reply.headers[.contentType]?.hasPrefix("application/json") == true)
            if outcome == .internalError {
                #expect((reply.json["error"] as? [String: Any])?["message"] as? String == "The broker could not serve this request.")
            }
            if outcome == .auditUnavailable {
                #expect(reply.auditSequence == nil && fake.trail.events.isEmpty, "nothing could be recorded, nothing is named")
            } else {
                let event = try #require(fake.trail.event(reply.auditSequence), "the outcome is audited and the response names it")
                #expect(event == fake.trail.events.last)
                #expect(event.outcome == outcome.audited)
                #expect(event.reason == (outcome == .wrongRole ? "wrong_role" : outcome.code))
                #expect(event.outputDigest == nil)
            }
        }
    }

    @Test func successesNameTheirAuditEventAndItsHash() async throws {
        try await API.test { client, fake in
            let researcher = try await fake.token(for: "res")
            var replies: [TestResponse] = []
            replies.append(try await client.send(.get, "/v1/me", token: researcher))
            replies.append(try await client.send(.get, "/v1/projects/p1/queries", token: researcher))
            let run = try await client.run("p1", "q1", Self.window, token: researcher)
            replies.append(run)
            replies.append(try await client.run("p1", "q1", Self.window, token: researcher, format: "csv"))
            replies.append(try await client.send(.get, "/v1/audit?action=query.run", token: try await fake.token(for: "ig")))
            _ = try await fake.broker.publisher.publish(fake.caller("op"), release: "r1")
            let regulator = try await fake.token(for: "reg")
            replies.append(try await client.send(.get, "/v1/releases", token: regulator))
            let release = try await client.send(.get, "/v1/releases/r1", token: regulator)
            replies.append(release)
            for reply in replies {
                #expect(reply.status == .ok)
                let event = try #require(fake.trail.event(reply.auditSequence))
                #expect(reply.auditHash == event.hash.hex && event.outcome == .allowed)
            }
            // A table's audit member names the same event, and the event's digest covers the document without it.
            let audit = try #require(run.json["audit"] as? [String: Any])
            #expect((audit["sequence"] as? Int).map(Int64.init) == run.auditSequence)
            let event = try #require(fake.trail.event(run.auditSequence))
            let document = Array(run.text.replacing(#/^\{"audit":\{[^}]*\},/#, with: "{").utf8)
            #expect(event.outputDigest == AuditDigest.sha256(of: document))
            // A release is sent as stored, with its version and digest.
            #expect(release.headers[HTTPField.Name("SDE-Release-Version")!] == "1")
            #expect(release.headers[HTTPField.Name("SDE-Release-SHA256")!] == AuditDigest.sha256(of: Array(release.text.utf8)).hex)
            #expect(fake.trail.event(release.auditSequence)?.outputDigest == AuditDigest.sha256(of: Array(release.text.utf8)))
        }
    }

    @Test(arguments: [
        (HTTPRequest.Method.get, "/v1/me?user=op"), (.get, "/v1/projects/p1/queries?all=1"), (.post, "/v1/projects/p1/queries/q1/runs?sql=1"),
        (.get, "/v1/releases?mine=0"), (.get, "/v1/releases/r1?versoin=1"), (.get, "/v1/audit?projct=p1"),
    ])
    func anUnknownQueryStringParameterIsRefusedAndAudited(method: HTTPRequest.Method, uri: String) async throws {
        try await API.test { client, fake in
            let user = uri.hasPrefix("/v1/releases") ? "reg" : uri.hasPrefix("/v1/audit") ? "ig" : "res"
            let reply = try await client.send(method, uri, token: try await fake.token(for: user), body: method == .post ? "{}" : nil)
            #expect(reply.status == .badRequest && reply.errorCode == "query_parameter_unknown")
            let event = try #require(fake.trail.event(reply.auditSequence))
            #expect(event.outcome == .denied && event.reason == "query_parameter_unknown" && event.actor == user)
            #expect(fake.store.statementsRun == 0)
        }
    }

    @Test func aBodyOverTheLimitIs413AndTheLimitItselfIsRead() async throws {
        try await API.test { client, fake in
            let token = try await fake.token(for: "res")
            func body(_ size: Int) -> String {
                let frame = #"{"parameters": {"to": "2024Q1", "from": ""}}"#
                return #"{"parameters": {"to": "2024Q1", "from": ""# + String(repeating: "A", count: size - frame.utf8.count) + #""}}"#
            }
            let runs = "/v1/projects/p1/queries/q1/runs"
            let atLimit = try await client.send(.post, runs, token: token, body: body(APIRequestLimits.maxBodyBytes))
            #expect(atLimit.status == .unprocessableContent && atLimit.errorCode == "parameter_invalid")
            let overLimit = try await client.send(.post, runs, token: token, body: body(APIRequestLimits.maxBodyBytes + 1))
            #expect(overLimit.status == .contentTooLarge && overLimit.errorCode == "body_too_large")
            let event = try #require(fake.trail.event(overLimit.auditSequence))
            #expect(event.action == .queryDenied && event.reason == "body_too_large" && event.parameters.isEmpty)
            #expect(fake.store.statementsRun == 0)
        }
    }

    @Test(arguments: [
        (#"{"parameters": {"from": "2024Q1""#, "body_invalid"), (#"["parameters"]"#, "body_invalid"),
        (#"{"parameters": {"from": "2024Q1", "to": "2024Q1"}, "sql": "SELECT 1"}"#, "body_invalid"), (#"{"parameters": ["2024Q1"]}"#, "body_invalid"),
        (#"{"parameters": {"from": 2024, "to": "2024Q1"}}"#, "parameter_invalid"),
    ])
    func aBodyThatIsNotAParametersObjectIsRefusedAndAudited(body: String, code: String) async throws {
        try await API.test { client, fake in
            let reply = try await client.send(.post, "/v1/projects/p1/queries/q1/runs", token: try await fake.token(for: "res"), body: body)
            #expect(reply.errorCode == code && [.badRequest, .unprocessableContent].contains(reply.status))
            #expect(fake.trail.event(reply.auditSequence)?.reason == code)
            #expect(!reply.text.contains("SELECT"), "no value echoed")
        }
    }

    @Test func healthNeedsNoTokenAndReadinessFollowsEachDependency() async throws {
        try await API.test { client, fake in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok && health.json["status"] as? String == "ok")
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok && (ready.json["checks"] as? [String: String]) == ["database": "ok", "policy": "ok", "audit": "ok"])
            fake.trail.setReady(false)
            let auditDown = try await client.send(.get, "/readyz")
            #expect(auditDown.status == .serviceUnavailable && auditDown.errorCode == "not_ready")
            #expect((auditDown.json["error"] as? [String: Any])?["message"] as? String == "Not ready: audit unavailable.")
            fake.trail.setReady(true)
            fake.store.setReachable(false)
            let databaseDown = try await client.send(.get, "/readyz")
            #expect(databaseDown.status == .serviceUnavailable && databaseDown.errorCode == "not_ready")
            fake.store.setReachable(true)
            #expect(try await client.send(.get, "/readyz").status == .ok)
            #expect(fake.trail.events.isEmpty, "health checks write nothing")
            let metrics = try await client.send(.get, "/metrics")
            #expect(metrics.status == .ok && metrics.text.contains(#"sde_http_requests_total{route="/readyz",method="GET",status="503"} 2"#))
        }
    }

    @Test func anUnknownRouteIs404AndAWrongMethod405() async throws {
        try await API.test { client, fake in
            let token = try await fake.token(for: "res")
            let unknown = try await client.send(.get, "/v1/nothing", token: token)
            #expect(unknown.status == .notFound && unknown.errorCode == "not_found")
            let method = try await client.send(.delete, "/healthz")
            #expect([.notFound, .methodNotAllowed].contains(method.status) && method.errorCode != nil)
        }
    }
}
