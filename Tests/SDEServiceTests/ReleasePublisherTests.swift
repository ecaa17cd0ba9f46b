import SDEAudit
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// Operators' publications: a version is stored only after its `release.publish` event, which names the SHA-256 of
/// exactly the stored JSON, and a signed checkpoint covering that event, which the version carries; without an audit
/// trail nothing is stored.
@Suite struct ReleasePublisherTests {
    @Test func aPublicationStoresItsVersionAfterItsEvent() async throws {
        let fake = try FakeBroker()
        fake.store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 40))
        let first = try await fake.broker.publisher.publish(fake.caller("op"), release: "r1")
        let event = try #require(fake.trail.events.first)
        #expect(fake.trail.events.count == 2 && first.event == event)
        // Then a checkpoint of the trail, which the version carries away: a signed tree head covering its event.
        let checkpoint = try #require(fake.trail.events.last?.checkpoint?.note)
        #expect(first.stored.auditCheckpoint == checkpoint)
        #expect(try AuditTreeHead(note: checkpoint, verifiedBy: fake.trail.signingKey.publicKey).size == event.sequence)
        #expect(event.action == .releasePublish && event.outcome == .allowed && event.actor == "op" && event.role == "operator")
        #expect(event.target == "r1" && event.parameters == ["from": "2024Q1", "to": "2024Q4"])
        #expect(first.stored.version == 1 && first.stored.auditSequence == event.sequence, "the version names the event that released it")
        #expect(event.outputDigest == AuditDigest.sha256(of: first.stored.json) && first.stored.sha256 == event.outputDigest?.hex)
        #expect(fake.releases.versions(of: "r1").map(\.version) == [1])
        let ledger = fake.store.ledger(of: "waits")
        #expect(!ledger.isEmpty && ledger.allSatisfy { $0.source == .release("r1") })

        let second = try await fake.broker.publisher.publish(fake.caller("op"), release: "r1")
        #expect(second.stored.version == 2 && second.stored.auditSequence == 3)
        #expect(second.stored.json != first.stored.json, "each version's document names its version")
    }

    @Test func withoutAnAuditTrailNoVersionIsStored() async throws {
        let fake = try FakeBroker()
        fake.trail.failWrites(with: .auditUnavailable)
        let error = try await #require(throws: ServiceError.self) { try await fake.broker.publisher.publish(fake.caller("op"), release: "r1") }
        #expect(error.code == .auditUnavailable && error.event == nil)
        #expect(fake.releases.versions(of: "r1").isEmpty, "nothing is readable that was not audited")
        #expect(fake.trail.events.isEmpty)
    }

    @Test func aVersionThatCannotBeStoredIsRecordedAsAFailureAfterItsEvent() async throws {
        let fake = try FakeBroker()
        fake.store.fail(.releaseAppend, with: .databaseUnavailable)
        let error = try await #require(throws: ServiceError.self) { try await fake.broker.publisher.publish(fake.caller("op"), release: "r1") }
        #expect(error.code == .databaseUnavailable)
        let events = fake.trail.events
        #expect(events.map(\.outcome) == [.allowed, .allowed, .error], "audited first, then the failure to store")
        #expect(events.map(\.action) == [.releasePublish, .auditCheckpoint, .releasePublish])
        #expect(error.event == events.last && events.last?.reason == "database_unavailable")
        #expect(fake.releases.versions(of: "r1").isEmpty)
    }

    @Test(arguments: [("res", DenyReason.wrongRole, "r1"), ("reg", .wrongRole, "r1"), ("op", .unknownRelease, "r9"), ("nobody", .unknownUser, "r1")])
    func aRefusedPublicationIsAuditedAndStoresNothing(user: String, reason: DenyReason, release: String) async throws {
        let fake = try FakeBroker()
        let error = try await #require(throws: ServiceError.self) { try await fake.broker.publisher.publish(fake.caller(user), release: release) }
        #expect(error.code == .denied(reason))
        let event = try #require(fake.trail.events.last)
        #expect(error.event == event && event.action == .releasePublish && event.outcome == .denied && event.reason == reason.rawValue)
        #expect(fake.store.statementsRun == 0 && fake.releases.versions(of: release).isEmpty)
    }
}
