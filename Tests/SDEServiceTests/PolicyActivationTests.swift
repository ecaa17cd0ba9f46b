import SDEAudit
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// Putting a signed policy set in force: pinned on first use, new versions recorded with their audit event, a rollback
/// refused (serving nothing, naming the file and line), and a ledger that cannot answer refusing too.
@Suite struct PolicyActivationTests {
    static let window = ["from": "2024Q1", "to": "2024Q2"]

    /// An activation of `fixture`'s set (read when it runs) into `fake`'s gate over `ledger`. Each test's broker starts
    /// with no set in force, as `serve` and the command line do.
    static func activation(_ fake: FakeBroker, _ ledger: InMemoryPolicyVersionLedger, _ fixture: PolicyFixture) throws -> PolicyActivation {
        let sources = try fixture.sources()
        return PolicyActivation(
            gate: fake.broker.gate, ledger: ledger,
            load: { () throws(PolicyError) in try PolicySet.load(sources, reference: PolicyFixture.reference) },
            directory: "Policies")
    }

    @Test func theFirstSetIsPinnedAndAuditedAndTheSameSetAgainIsNot() async throws {
        let fake = try FakeBroker(policy: .invalid(.unchecked("not yet activated")))
        let ledger = InMemoryPolicyVersionLedger()
        let activation = try Self.activation(fake, ledger, .standard)
        #expect(await activation.activate(auditingEveryLoad: false).isReady)
        #expect(ledger.records.map(\.kind) == [.root, .manifest])
        let pinned = try #require(fake.trail.events.last)
        #expect(pinned.action == .policyPinned && pinned.outcome == .allowed && pinned.actor == AuditEventDraft.brokerActor)
        #expect(pinned.parameters["root_version"] == "1" && pinned.parameters["manifest_version"] == "1")
        #expect(pinned.parameters["accepted"] == "root 1,manifest 1" && pinned.parameters["manifest_signers"] == "ig")
        #expect(pinned.policyDigest?.hex == (try PolicyFixture.standard.load().digest))
        #expect(await activation.activate(auditingEveryLoad: false).isReady)
        #expect(fake.trail.events.count == 1, "nothing new, nothing audited (a command's load)")
        #expect(await activation.activate(auditingEveryLoad: true).isReady)
        #expect(fake.trail.events.last?.action == .policyLoaded && fake.trail.events.last?.parameters["accepted"] == nil, "every reload is audited")
    }

    @Test func aRollbackIsRefusedServesNothingAndIsAudited() async throws {
        let fake = try FakeBroker(policy: .invalid(.unchecked("not yet activated")))
        let ledger = InMemoryPolicyVersionLedger()
        var newer = PolicyFixture.standard
        newer.manifestVersion = 2
        _ = newer.replace("projects/p1.yaml", "status: approved", "status: suspended")
        #expect(try await Self.activation(fake, ledger, newer).activate(auditingEveryLoad: false).isReady)
        let suspended = await #expect(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.window)
        }
        #expect(suspended?.code == .denied(.projectSuspended))

        // The older set, approved and signed, is put back.
        let state = try await Self.activation(fake, ledger, .standard).activate(auditingEveryLoad: true)
        guard case .invalid(let error) = state else {
            Issue.record("the rollback was accepted")
            return
        }
        #expect(error.code == .rollback)
        #expect(
            error.diagnostics.map(\.description).contains { $0.hasPrefix("Policies/manifest.yaml:4: manifest version 1 is older than version 2") })
        let rejected = try #require(fake.trail.events.last)
        #expect(rejected.action == .policyRejected && rejected.outcome == .error && rejected.reason == "policy_rollback")
        let refused = await #expect(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.window)
        }
        #expect(refused?.code == .denied(.policyInvalid))
        #expect(refused?.message.contains("Policies/manifest.yaml:4") == true, "\(refused?.message ?? "")")
        #expect(ledger.records.map(\.version) == [1, 2])
    }

    @Test func aLedgerThatCannotAnswerServesNothing() async throws {
        let fake = try FakeBroker(policy: .invalid(.unchecked("not yet activated")))
        let ledger = InMemoryPolicyVersionLedger()
        ledger.failCalls(with: .databaseUnavailable)
        let state = try await Self.activation(fake, ledger, .standard).activate(auditingEveryLoad: false)
        guard case .invalid(let error) = state else {
            Issue.record("an unchecked set was put in force")
            return
        }
        #expect(error.code == .unchecked)
        #expect(fake.trail.events.last?.action == .policyRejected && fake.trail.events.last?.reason == "policy_unchecked")

        // The set in force, admitted before, stays in force when it is read again during an outage; another does not.
        ledger.failCalls(with: nil)
        #expect(try await Self.activation(fake, ledger, .standard).activate(auditingEveryLoad: false).isReady)
        ledger.failCalls(with: .databaseUnavailable)
        #expect(try await Self.activation(fake, ledger, .standard).activate(auditingEveryLoad: true).isReady)
        var newer = PolicyFixture.standard
        newer.manifestVersion = 2
        #expect(try await !Self.activation(fake, ledger, newer).activate(auditingEveryLoad: true).isReady)
    }

    @Test func aNewVersionIsRecordedOnlyWithItsAuditEvent() async throws {
        let fake = try FakeBroker(policy: .invalid(.unchecked("not yet activated")))
        let ledger = InMemoryPolicyVersionLedger()
        let activation = try Self.activation(fake, ledger, .standard)
        fake.trail.failWrites(with: .auditUnavailable)
        // The set is valid and extends nothing: in force (nothing is released without the trail anyway), not recorded.
        #expect(await activation.activate(auditingEveryLoad: false).isReady)
        #expect(ledger.records.isEmpty && fake.trail.events.isEmpty)
        fake.trail.failWrites(with: nil)
        #expect(await activation.activate(auditingEveryLoad: false).isReady)
        #expect(ledger.records.count == 2 && fake.trail.events.map(\.action) == [.policyPinned])
    }

    @Test func anInvalidSetIsNotCheckedAgainstTheLedger() async throws {
        let fake = try FakeBroker(policy: .invalid(.unchecked("not yet activated")))
        let ledger = InMemoryPolicyVersionLedger()
        var unsigned = PolicyFixture.standard
        unsigned.manifestSigners = []
        let state = try await Self.activation(fake, ledger, unsigned).activate(auditingEveryLoad: true)
        #expect(!state.isReady && ledger.records.isEmpty)
        #expect(fake.trail.events.last?.action == .policyRejected && fake.trail.events.last?.reason == "policy_invalid")
        #expect(state.summary.contains("manifest.yaml:1: missing the signed manifest"))
    }
}
