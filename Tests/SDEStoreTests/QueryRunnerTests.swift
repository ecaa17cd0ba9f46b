import Foundation
import PostgresNIO
import SDEAudit
import SDECommon
import SDEDisclosure
import SDEExtracts
import SDEPolicy
import SDEService
import SDEStore
import Testing

@Suite struct QueryRunnerTests {
    static let today = CivilDate(year: 2026, month: 11, day: 26)!

    /// Ingests a small synthetic extract and runs `body` with a runner over the example policy set.
    func withRunner(_ body: (QueryRunner, DatabaseSession, AuditTrailTests.Fixture) async throws -> Void) async throws {
        let scratch = try IngestTests.Scratch(persons: 3000, seed: 21)
        defer { scratch.remove() }
        try await withBroker(ingesting: scratch) { broker, db, fixture in try await body(broker.queries, db, fixture) }
    }

    @Test func anAllowedResearcherGetsAProtectedTableWhoseDigestIsAudited() async throws {
        try await withRunner { runner, db, fixture in
            let table = try await runner.run(
                caller("r-amara-bello"), project: "P2025-003", query: "home-care-cost-by-support-reason",
                parameters: ["from": "2023Q2", "to": "2024Q1"])
            let (document, released, event) = (table.document, table.json, table.event)
            // Every cell has a status; suppressed cells carry their rule and no value.
            for row in document.table.rows {
                for cell in row.cells {
                    #expect((cell.status == .suppressed) == (cell.value == nil))
                    #expect((cell.status == .suppressed) == (cell.rule != nil))
                }
            }
            // The audit event names the exact bytes released (the document without its audit reference).
            #expect(released == document.json().canonicalBytes)
            #expect(event.outputDigest == AuditDigest.sha256(of: released))
            #expect(event.outcome == .allowed && event.action == .queryRun && event.actor == "r-amara-bello")
            #expect(event.cells.released == document.table.summary.released + document.table.summary.perturbed + document.table.summary.rounded)
            let json = document.json(audit: event.head).canonicalString
            #expect(json.contains("\"audit\":{\"hash\":\"\(event.hash.hex)\",\"sequence\":\(event.sequence)}"))
            // What the HTTP API sends: the released bytes with the audit reference spliced in, never encoded again.
            #expect(table.jsonWithAudit == document.json(audit: event.head).canonicalBytes)
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test(arguments: [
        ("r-tom-okafor", "P2025-002", "requests-by-la-quarter", DenyReason.trainingExpired),
        ("r-lewis-grant", "P2025-002", "requests-by-la-quarter", DenyReason.userInactive),
        ("nobody", "P2025-002", "requests-by-la-quarter", DenyReason.unknownUser),
        ("r-priya-shah", "P2025-002", "home-care-cost-by-support-reason", DenyReason.queryNotInProject),
    ])
    func aDeniedRequestGetsNothingAndIsAudited(_ user: String, _ project: String, _ query: String, _ reason: DenyReason) async throws {
        try await withRunner { runner, db, fixture in
            let denial = await expectServiceError(.denied(reason)) {
                try await runner.run(caller(user), project: project, query: query, parameters: ["from": "2024Q1", "to": "2024Q1"])
            }
            let event = try #require(denial?.event, "the refusal is audited")
            #expect(event.outcome == .denied && event.action == .queryDenied && event.reason == reason.rawValue)
            #expect(event.outputDigest == nil && event.cells.released == 0)
            #expect(event.parameters.isEmpty, "parameters that failed the checks are not recorded")
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test func aBadParameterIsRefusedBeforeAnySQLRuns() async throws {
        try await withRunner { runner, db, _ in
            // Without the reader's grant any statement over the view fails, so a denial (not an error) means no SQL ran.
            try await db.execute("REVOKE SELECT ON datasets.request_waits FROM sde_reader")
            await expectServiceError(.denied(.parameterInvalid)) {
                try await runner.run(
                    caller("r-priya-shah"), project: "P2025-002", query: "requests-by-la-quarter",
                    parameters: ["from": "2023Q2'; DROP TABLE x;--", "to": "2024Q1"])
            }
            // The revoke bites: with good parameters the same query reaches SQL and fails (audited as an error).
            let failure = await expectServiceError(.databaseUnavailable) {
                try await runner.run(
                    caller("r-priya-shah"), project: "P2025-002", query: "requests-by-la-quarter", parameters: ["from": "2023Q2", "to": "2024Q1"])
            }
            #expect(failure?.event?.outcome == .error)
        }
    }
}
