import Foundation
import SDEAudit
import SDECommon
import SDEPolicy
import SDEQuery
import SDEService
import SDEStore
import Testing

/// `query show`: the specification, SQL and binds for IG officers and operators; audited; no data.
@Suite struct QueryInspectorTests {
    func withInspector(_ body: (QueryInspector, DatabaseSession, AuditTrailTests.Fixture) async throws -> Void) async throws {
        try await withBroker { broker, db, fixture in try await body(broker.inspector, db, fixture) }
    }

    @Test func anIGOfficerSeesTheSQLWithPlaceholdersAndItsBindsInOrder() async throws {
        try await withInspector { inspector, db, fixture in
            let shown = try await inspector.show(
                caller("ig-helen-moore"), query: "waits-by-region-support-reason", parameters: ["region": "E12000004"])
            let (specification, event) = (shown.specification, shown.event)
            let text = specification.text
            #expect(text.contains("query:      waits-by-region-support-reason"))
            #expect(text.contains("approval:   approved by ig-helen-moore"))
            #expect(text.contains("from: quarter YYYYQn, from bound, within 2022Q2..2025Q1; required; compiled with 2022Q2 (example)"))
            #expect(text.contains("region: one value of region_code; optional; compiled with E12000004"))
            // Values are placeholders in the SQL and listed, in order, as binds.
            #expect(specification.compiled.sql.contains("$1::date") && specification.compiled.sql.contains("$2::date"))
            #expect(!specification.compiled.sql.contains("E12000004") && !specification.compiled.sql.contains("2022-04-01"))
            #expect(text.contains("binds:\n  $1 = date 2022-04-01\n  $2 = date 2025-03-31\n  $3 = "))
            #expect(text.contains("text[] {E12000004}"))
            #expect(event.action == .queryShow && event.outcome == .allowed && event.role == "ig_officer")
            #expect(event.parameters == ["from": "2022Q2", "to": "2025Q1", "region": "E12000004"])
            #expect(event.outputDigest == AuditDigest.sha256(of: Array(text.utf8)) && event.cells.released == 0, "no cells: no data")
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test(arguments: [
        ("r-priya-shah", "waits-by-la-quarter", [String: String](), DenyReason.wrongRole),
        ("reg-james-cole", "waits-by-la-quarter", [:], DenyReason.wrongRole),
        ("op-dan-wright", "no-such-query", [:], DenyReason.unknownQuery),
        ("ig-helen-moore", "waits-by-la-quarter", ["from": "1999Q1"], DenyReason.parameterInvalid),
    ])
    func othersAreRefusedAndAudited(_ user: String, _ query: String, _ parameters: [String: String], _ reason: DenyReason) async throws {
        try await withInspector { inspector, db, fixture in
            let denial = await expectServiceError(.denied(reason)) { try await inspector.show(caller(user), query: query, parameters: parameters) }
            let event = try #require(denial?.event, "the refusal is audited")
            #expect(event.action == .queryShow && event.outcome == .denied && event.reason == reason.rawValue)
            #expect(event.outputDigest == nil && event.parameters.isEmpty)
            #expect(try await fixture.verify(db).isIntact)
        }
    }
}
