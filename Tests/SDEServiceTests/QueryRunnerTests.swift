import SDEAudit
import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// Researchers' runs: one event per allowed run naming the SHA-256 of exactly the bytes returned; a failure after
/// access is recorded with its code and returns nothing; without an audit trail nothing is released.
@Suite struct QueryRunnerTests {
    static let parameters = ["from": "2024Q1", "to": "2024Q2"]

    @Test func anAllowedRunRecordsOneEventWhoseDigestIsThatOfTheBytesReturned() async throws {
        let fake = try FakeBroker()
        fake.store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 40))
        let table = try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        let events = fake.trail.events
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(table.event == event)
        #expect(event.action == .queryRun && event.outcome == .allowed && event.reason == nil)
        #expect(event.actor == "res" && event.role == "researcher" && event.project == "p1" && event.target == "q1")
        #expect(event.parameters == Self.parameters)
        #expect(event.outputDigest == AuditDigest.sha256(of: table.json), "the digest of exactly the bytes returned")
        #expect(table.json == table.document.json().canonicalBytes)
        #expect(event.cells == table.document.cellCounts && event.cells.released > 0)
        let policy = try #require(await fake.policies.state.policy)
        #expect(event.policyDigest?.hex == policy.digest)
        // What researchers receive is that document with the audit reference in front.
        #expect(table.jsonWithAudit == table.document.json(audit: event.head).canonicalBytes)
        // The released cells are in the ledger under the project.
        let ledger = fake.store.ledger(of: "waits")
        #expect(!ledger.isEmpty && ledger.allSatisfy { $0.source == .project("p1") && $0.queryID == "q1" })
    }

    @Test func aSuppressedCellIsNeverReleasedAsZero() async throws {
        let fake = try FakeBroker()
        fake.store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 3))
        let table = try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        let cells = table.document.table.rows.flatMap(\.cells)
        #expect(cells.contains { $0.status == .suppressed }, "3 persons a cell is under the project's threshold of 20")
        #expect(cells.allSatisfy { ($0.status == .suppressed) == ($0.value == nil) })
    }

    @Test func aFailureAfterAccessIsRecordedWithItsCodeAndReturnsNothing() async throws {
        let fake = try FakeBroker()
        fake.store.fail(.statement, with: .queryTimeout)
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        }
        #expect(error.code == .queryTimeout && error.code.kind == .timedOut)
        let event = try #require(fake.trail.events.last)
        #expect(fake.trail.events.count == 1)
        #expect(error.event == event)
        #expect(event.action == .queryRun && event.outcome == .error && event.reason == "query_timeout")
        #expect(event.parameters == Self.parameters, "parameters that passed the checks are recorded")
        #expect(event.outputDigest == nil && event.cells == .none)
        #expect(fake.store.ledger(of: "waits").isEmpty, "nothing was released")
    }

    @Test func aLedgerThatCannotBeWrittenReleasesNothing() async throws {
        let fake = try FakeBroker()
        fake.store.fail(.ledgerRecord, with: .databaseUnavailable)
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        }
        #expect(error.code == .databaseUnavailable)
        #expect(fake.trail.events.map(\.outcome) == [.error])
        #expect(fake.trail.events.allSatisfy { $0.outputDigest == nil })
    }

    @Test func withoutAnAuditTrailNothingIsReleased() async throws {
        let fake = try FakeBroker()
        fake.trail.failWrites(with: .auditUnavailable)
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        }
        #expect(error.code == .auditUnavailable && error.code.kind == .unavailable)
        #expect(error.event == nil)
        #expect(fake.trail.events.isEmpty)
    }

    @Test func theTrailFailingDuringARunReleasesNothingAndRecordsNoFailureEvent() async throws {
        let fake = try FakeBroker()
        let trail = fake.trail
        fake.store.setStatistics(of: "q1") { query in
            trail.failWrites(with: .auditUnavailable)
            return try FakeStatistics.zeros(query)
        }
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        }
        #expect(error.code == .auditUnavailable && error.event == nil)
        #expect(trail.events.isEmpty)
    }

    @Test func aRepeatedRunIsAuditedAgainAndAddsNothingToTheLedger() async throws {
        let fake = try FakeBroker(cache: StatisticsCache(capacity: 10_000))
        fake.store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 40))
        let first = try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        let ledger = fake.store.ledger(of: "waits")
        let second = try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        #expect(second.json == first.json)
        #expect(fake.trail.events.map(\.sequence) == [1, 2], "every run is audited")
        #expect(fake.store.statementsRun == 1, "the statistics came from the cache")
        #expect(fake.store.ledger(of: "waits") == ledger)
        fake.store.changeData()
        _ = try await fake.broker.queries.run(fake.caller("res"), project: "p1", query: "q1", parameters: Self.parameters)
        #expect(fake.store.statementsRun == 2, "changed data runs the statement again")
    }
}
