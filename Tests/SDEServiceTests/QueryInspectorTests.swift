import SDEAudit
import SDEPolicy
import SDEQuery
import SDEService
import SDEServiceFakes
import Testing

/// `query show`: runs no SQL, is audited with the SHA-256 of the text shown, and refuses (audited) a bad parameter.
@Suite struct QueryInspectorTests {
    @Test(arguments: ["ig", "op"])
    func anIGOfficerOrOperatorSeesTheSQLAndTheShowIsAudited(user: String) async throws {
        let fake = try FakeBroker()
        let shown = try await fake.broker.inspector.show(fake.caller(user), query: "q1", parameters: ["la": "E06000001"])
        let event = try #require(fake.trail.events.last)
        #expect(fake.trail.events.count == 1 && shown.event == event)
        #expect(event.action == .queryShow && event.outcome == .allowed && event.target == "q1")
        #expect(event.role == (user == "ig" ? "ig_officer" : "operator"))
        #expect(event.outputDigest == AuditDigest.sha256(of: Array(shown.specification.text.utf8)))
        #expect(shown.specification.examples == ["from", "to"], "quarter bounds left out are filled with examples")
        #expect(shown.specification.compiled.sql.contains("$1"))
        #expect(fake.store.statementsRun == 0, "query show runs nothing")
    }

    @Test(arguments: [
        (["from": "2023Q9"], DenyReason.parameterInvalid), (["la": "E99999999"], .parameterInvalid), (["sex": "F"], .parameterUnknown),
    ])
    func aBadParameterIsRefusedAndAudited(parameters: [String: String], reason: DenyReason) async throws {
        let fake = try FakeBroker()
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.inspector.show(fake.caller("ig"), query: "q1", parameters: parameters)
        }
        #expect(error.code == .denied(reason))
        let event = try #require(fake.trail.events.last)
        #expect(fake.trail.events.count == 1 && error.event == event)
        #expect(event.action == .queryShow && event.outcome == .denied && event.reason == reason.rawValue && event.role == "ig_officer")
        #expect(event.parameters.isEmpty && event.outputDigest == nil)
    }

    @Test(arguments: [("res", DenyReason.wrongRole, "q1"), ("reg", .wrongRole, "q1"), ("ig", .unknownQuery, "q9")])
    func aShowForTheWrongRoleOrAnUnknownQueryIsRefusedAndAudited(user: String, reason: DenyReason, query: String) async throws {
        let fake = try FakeBroker()
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.inspector.show(fake.caller(user), query: query, parameters: [:])
        }
        #expect(error.code == .denied(reason) && error.event == fake.trail.events.last && error.event?.action == .queryShow)
    }

    @Test func withoutAnAuditTrailNothingIsShown() async throws {
        let fake = try FakeBroker()
        fake.trail.failWrites(with: .auditUnavailable)
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.inspector.show(fake.caller("ig"), query: "q1", parameters: [:])
        }
        #expect(error.code == .auditUnavailable && fake.trail.events.isEmpty)
    }
}
