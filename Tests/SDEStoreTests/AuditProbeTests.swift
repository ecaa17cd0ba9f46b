import Foundation
import PostgresNIO
import SDEAudit
import SDEStore
import Testing

/// `/readyz` asks the trail whether it can be written (issue 13: it said ready while every request failed
/// `audit_unavailable`): the probe checks what a write needs, today's mirror file open for appending and the database
/// role allowed to insert audit events in a writable database, and writes no event.
@Suite struct AuditProbeTests {
    typealias Fixture = AuditTrailTests.Fixture

    static func todaysMirrorFile(_ fixture: Fixture) -> String {
        "\(fixture.mirrorDirectory)/audit-\(AuditTimestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))!.date).jsonl"
    }

    @Test func todaysMirrorFileThatCannotBeAppendedToFailsTheProbe() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config)
            #expect(await trail.probe())
            // A directory stands where today's file would be opened for appending (as an immutable file would refuse).
            try FileManager.default.createDirectory(atPath: Self.todaysMirrorFile(fixture), withIntermediateDirectories: true)
            #expect(await !trail.probe())
            try FileManager.default.removeItem(atPath: Self.todaysMirrorFile(fixture))
            #expect(await trail.probe())
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.audit_event") == 0, "probing writes nothing")
            #expect(!FileManager.default.fileExists(atPath: Self.todaysMirrorFile(fixture)), "nor creates today's file")
            await trail.close()
        }
    }

    @Test func aMissingMirrorDirectoryFailsTheProbe() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, _ in
            let trail = try await fixture.open(config)
            try FileManager.default.removeItem(atPath: fixture.mirrorDirectory)
            #expect(await !trail.probe())
            await trail.close()
        }
    }

    @Test func aRoleThatMayNotInsertAuditEventsFailsTheProbe() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config)
            try await db.execute("REVOKE INSERT ON broker.audit_event FROM sde_broker")
            #expect(await !trail.probe())
            try await db.execute("GRANT INSERT ON broker.audit_event TO sde_broker")
            #expect(await trail.probe())
            await trail.close()
        }
    }
}
