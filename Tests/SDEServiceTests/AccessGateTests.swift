import SDEAudit
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// The one audited gate: every refusal is recorded (under its refusal action, without the caller's parameters) before
/// it is thrown, and the thrown error carries that event; a refusal that cannot be recorded is `audit_unavailable`.
@Suite struct AccessGateTests {
    static let window = ["from": "2024Q1", "to": "2024Q2"]

    @Test(arguments: [
        ("res2", "p1", "q1", ["from": "2024Q1", "to": "2024Q2"], DenyReason.notAMember),
        ("ig", "p1", "q1", ["from": "2024Q1", "to": "2024Q2"], .wrongRole),
        ("nobody", "p1", "q1", ["from": "2024Q1", "to": "2024Q2"], .unknownUser),
        ("ig-old", "p1", "q1", ["from": "2024Q1", "to": "2024Q2"], .userInactive),
        ("res", "p9", "q1", ["from": "2024Q1", "to": "2024Q2"], .unknownProject),
        ("res", "p1", "q9", ["from": "2024Q1", "to": "2024Q2"], .unknownQuery),
        ("res", "p1", "q2", [:], .queryNotInProject),
        ("res", "p1", "q1", ["from": "2024Q1"], .parameterMissing),
        ("res", "p1", "q1", ["from": "2023Q9", "to": "2024Q1"], .parameterInvalid),
        ("res", "p1", "q1", ["from": "2024Q1", "to": "2024Q1", "sex": "F"], .parameterUnknown),
    ])
    func aRefusedRunIsRecordedBeforeItIsThrownAndCarriesItsEvent(
        user: String, project: String, query: String, parameters: [String: String], reason: DenyReason
    ) async throws {
        let fake = try FakeBroker()
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller(user), project: project, query: query, parameters: parameters)
        }
        #expect(error.code == .denied(reason))
        let events = fake.trail.events
        #expect(events.count == 1, "exactly the refusal")
        let event = try #require(events.first)
        #expect(error.event == event, "the thrown error carries the recorded event")
        #expect(event.action == .queryDenied && event.outcome == .denied && event.reason == reason.rawValue)
        #expect(event.parameters.isEmpty, "a refusal records none of the caller's parameters")
        #expect(event.outputDigest == nil && event.cells == .none)
        #expect(event.actor == user && event.role == nil && event.project == project && event.target == query)
        #expect(fake.store.statementsRun == 0, "nothing ran")
    }

    @Test func aRefusalThatCannotBeRecordedIsAuditUnavailable() async throws {
        let fake = try FakeBroker()
        fake.trail.failWrites(with: .auditUnavailable)
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res2"), project: "p1", query: "q1", parameters: Self.window)
        }
        #expect(error.code == .auditUnavailable && error.event == nil)
        #expect(fake.trail.events.isEmpty)
    }

    @Test func anInvalidPolicySetRefusesEverythingAsPolicyInvalid() async throws {
        let fake = try FakeBroker()
        var broken = PolicyFixture.standard
        broken.files["users.yaml"] = "users: [\n"
        let sources = try broken.sources()
        await fake.policies.reload { () throws(PolicyError) in try PolicySet.load(sources, reference: PolicyFixture.reference) }
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.window)
        }
        #expect(error.code == .denied(.policyInvalid) && error.code.kind == .refused(.policyInvalid))
        let event = try #require(fake.trail.events.last)
        #expect(error.event == event && event.reason == "policy_invalid" && event.policyDigest == nil)
        #expect(await fake.broker.readiness().first { $0.name == "policy" }?.ready == false)
    }

    /// Names a caller typed are recorded only when they are plain identifiers.
    @Test func aTypedNameThatIsNoIdentifierIsNotRecordedVerbatim() async throws {
        let fake = try FakeBroker()
        let project = "p1'; DROP TABLE x;--"
        _ = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: project, query: "q1", parameters: Self.window)
        }
        let event = try #require(fake.trail.events.last)
        #expect(event.reason == "unknown_project" && event.project == nil && event.target == "q1")
    }

    @Test func eventsFormOneVerifiableChain() async throws {
        let fake = try FakeBroker()
        for user in ["res2", "ig", "nobody"] {
            _ = try? await fake.broker.queries.run(fake.caller(user), project: "p1", query: "q1", parameters: Self.window)
        }
        let events = fake.trail.events
        #expect(events.map(\.sequence) == [1, 2, 3])
        #expect(zip(events, events.dropFirst()).allSatisfy { $1.prevHash == $0.hash })
        #expect(events.allSatisfy { $0.computedHash == $0.hash })
    }
}
