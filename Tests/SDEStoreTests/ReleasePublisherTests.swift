import Foundation
import PostgresNIO
import SDEAudit
import SDECommon
import SDEPolicy
import SDEService
import SDEStore
import Testing

/// Regulator releases: computed under the publication profile through the differencing ledger, audited, then stored
/// as immutable numbered versions.
@Suite struct ReleasePublisherTests {
    static let release = "cqc-requests-by-la-2024-25"

    /// Ingests a small synthetic extract and runs `body` with a publisher over the example policy set.
    func withPublisher(_ body: (ReleasePublisher, DatabaseSession, AuditTrailTests.Fixture) async throws -> Void) async throws {
        let scratch = try IngestTests.Scratch(persons: 1500, seed: 31)
        defer { scratch.remove() }
        try await withBroker(ingesting: scratch) { broker, db, fixture in try await body(broker.publisher, db, fixture) }
    }

    func publish(_ publisher: ReleasePublisher, user: String = "op-dan-wright") async throws -> (StoredRelease, AuditEvent) {
        let published = try await publisher.publish(caller(user), release: Self.release)
        return (published.stored, published.event)
    }

    @Test func publishingStoresNumberedVersionsWhoseDigestsMatchTheirBytesAndTheAudit() async throws {
        try await withPublisher { publisher, db, fixture in
            let (first, firstEvent) = try await publish(publisher)
            let (second, secondEvent) = try await publish(publisher)
            #expect(first.version == 1 && second.version == 2)
            for (stored, event) in [(first, firstEvent), (second, secondEvent)] {
                #expect(stored.sha256 == Hex.sha256(stored.json))
                #expect(event.outputDigest == AuditDigest.sha256(of: stored.json), "the audit event names the stored bytes")
                #expect(event.action == .releasePublish && event.outcome == .allowed && event.actor == "op-dan-wright")
                #expect(event.target == Self.release && event.project == nil && event.cells.released > 0)
                #expect(stored.auditSequence == event.sequence)
                // The version carries a signed checkpoint of the trail covering its own event, beside the document.
                let checkpoint = try AuditTreeHead(note: try #require(stored.auditCheckpoint), verifiedBy: fixture.key.publicKey)
                #expect(checkpoint.size >= event.sequence)
                let json = String(decoding: stored.json, as: UTF8.self)
                #expect(json.contains(#""project":null"#))
                #expect(json.contains(#""release":{"id":"\#(Self.release)","version":\#(stored.version)}"#))
                #expect(json.contains(#""profile":"publication""#))
                #expect(String(decoding: stored.csv, as: UTF8.self).hasPrefix("region_code,la_code,quarter,persons,persons_status,"))
            }
            // The same data and window: the same cells, so only the version differs.
            #expect(first.json != second.json)
            #expect(
                String(decoding: first.json, as: UTF8.self).replacingOccurrences(of: #""version":1"#, with: #""version":2"#)
                    == String(decoding: second.json, as: UTF8.self))
            let latest = try #require(try await ReleaseStore.latest(id: Self.release, on: db))
            #expect(latest.version == 2 && latest.json == second.json && latest.csv == second.csv && latest.sha256 == second.sha256)
            let one = try #require(try await ReleaseStore.version(1, of: Self.release, on: db))
            #expect(one.json == first.json && one.auditSequence == first.auditSequence && one.auditCheckpoint == first.auditCheckpoint)
            #expect(try await ReleaseStore.version(3, of: Self.release, on: db) == nil)
            #expect(try await ReleaseStore.latest(id: "no-such-release", on: db) == nil)
            let list = try await ReleaseStore.list(on: db)
            #expect(list.map(\.id) == [Self.release] && list.map(\.version) == [2] && list.first?.sha256 == second.sha256)
            // The trail extends both checkpoints the releases carried away.
            let carried = try [first, second].map { try AuditTreeHead(note: $0.auditCheckpoint!, verifiedBy: fixture.key.publicKey) }
            #expect(try await AuditVerification.run(db, mirror: fixture.mirror, trustedKeys: [fixture.key.publicKey], witnessed: carried).isIntact)
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test func storedVersionsCannotBeChanged() async throws {
        try await withPublisher { publisher, db, _ in
            _ = try await publish(publisher)
            await expectAppendOnly(
                db, ["UPDATE broker.release_version SET csv = ''::bytea", "DELETE FROM broker.release_version", "TRUNCATE broker.release_version"])
            // A version out of order, or bytes that do not match their digest, are refused as well.
            let stored = try #require(try await ReleaseStore.latest(id: Self.release, on: db))
            let outOfOrder = await #expect(throws: StoreError.self) {
                _ = try await ReleaseStore.append(
                    id: Self.release, version: 3, policyDigest: stored.policyDigest, auditSequence: stored.auditSequence + 1, json: stored.json,
                    csv: stored.csv, on: db)
            }
            #expect(outOfOrder?.message.contains("P0001") == true, "refused by the version trigger")
            #expect(try await ReleaseStore.latest(id: Self.release, on: db)?.version == 1)
        }
    }

    @Test(arguments: [("r-priya-shah", DenyReason.wrongRole), ("reg-james-cole", DenyReason.wrongRole), ("nobody", DenyReason.unknownUser)])
    func onlyAnOperatorMayPublishAndRefusalsAreAudited(_ user: String, _ reason: DenyReason) async throws {
        try await withPublisher { publisher, db, fixture in
            let denial = await expectServiceError(.denied(reason)) { try await publisher.publish(caller(user), release: Self.release) }
            let event = try #require(denial?.event, "the refusal is audited")
            #expect(event.action == .releasePublish && event.outcome == .denied && event.reason == reason.rawValue && event.outputDigest == nil)
            #expect(try await ReleaseStore.list(on: db).isEmpty)
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.released_population") == 0)
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test func aReleasesCellsGoIntoTheLedger() async throws {
        try await withPublisher { publisher, db, _ in
            let (stored, _) = try await publish(publisher)
            let json = String(decoding: stored.json, as: UTF8.self)
            let releasedCells = ["rounded", "released", "perturbed"].map { json.components(separatedBy: #""status":""# + $0 + "\"").count - 1 }.reduce(0, +)
            let recorded = try await db.scalar(
                """
                SELECT count(*)::int FROM broker.released_population
                WHERE source = 'release' AND source_id = \(Self.release) AND query_id = 'requests-by-la-quarter'
                  AND window_from >= DATE '2024-04-01' AND window_to <= DATE '2025-03-31'
                """)
            // One population per row with a released cell: its persons and its requests count the same people.
            #expect(recorded > 0 && recorded <= releasedCells && 2 * recorded >= releasedCells)
        }
    }
}
