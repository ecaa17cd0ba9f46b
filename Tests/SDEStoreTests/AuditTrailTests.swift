import Foundation
import PostgresNIO
import SDEAudit
import SDEService
import SDEStore
import Testing

@Suite struct AuditTrailTests {
    /// A temp mirror directory and a fresh signing key for one test.
    struct Fixture {
        let mirrorDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-audit-\(UUID().uuidString)").path
        var key = AuditSigningKey()
        var mirror: AuditMirror { AuditMirror(directory: mirrorDirectory) }

        /// A trail whose writes give up after `writeTimeout` (short, so the fault tests are quick).
        func open(_ config: DatabaseConfig, checkpointInterval: Int = 1000, writeTimeout: Duration = .seconds(3)) async throws -> AuditTrail {
            try await AuditTrail.open(
                database: config, mirrorDirectory: mirrorDirectory, signingKey: key, checkpointInterval: checkpointInterval,
                writeTimeout: writeTimeout, logger: TestPostgres.logger)
        }

        func verify(_ db: DatabaseSession) async throws -> AuditVerification {
            try await AuditVerification.run(db, mirror: mirror, trustedKeys: [key.publicKey])
        }

        func remove() { try? FileManager.default.removeItem(atPath: mirrorDirectory) }

        init() {}

        /// A fixture with its own mirror directory and the given signing key.
        init(key: AuditSigningKey) { self.key = key }
    }

    static func draft(_ n: Int, outcome: AuditOutcome = .allowed) throws -> AuditEventDraft {
        try AuditEventDraft(
            actor: "researcher-\(n % 7)", role: "researcher", project: "P2025-002", action: .queryRun, target: "requests-by-la-quarter",
            parameters: ["from": "2023Q2", "to": "2024Q1"], outcome: outcome, cells: AuditCellCounts(released: n, suppressed: ["threshold": 1]))
    }

    @Test func appendOnlyRefusesRewritesByTheOwnerAndByTheBrokerRole() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config)
            try await trail.record(try Self.draft(1))
            await trail.close()
            let changes = [
                "UPDATE broker.audit_event SET line = line || ' '", "DELETE FROM broker.audit_event", "TRUNCATE broker.audit_event",
            ]
            for change in changes {
                // The table's owner is stopped by the trigger (TRUNCATE even before it: release versions reference
                // audit events, SQLSTATE 0A000) ...
                let byOwner = await #expect(throws: StoreError.self) { try await db.execute(unsafeSQL: change) }
                let refusal = change.hasPrefix("TRUNCATE") ? "0A000" : "P0001"
                #expect(byOwner?.message.contains(refusal) == true, "\(change) as owner")
                // ... and the broker's own role has no privilege to try.
                let byBroker = await #expect(throws: StoreError.self) {
                    try await db.transaction("as broker") {
                        try await db.execute("SET LOCAL ROLE sde_broker")
                        try await db.execute(unsafeSQL: change)
                    }
                }
                #expect(byBroker?.message.contains("42501") == true, "\(change) as sde_broker")
            }
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.audit_event") == 2)  // the event and the closing checkpoint
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test func fiftyConcurrentWritersMakeOneGaplessChain() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config, checkpointInterval: 20)
            let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
                for n in 0..<50 { group.addTask { try await trail.record(try Self.draft(n)).sequence } }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            await trail.close()
            #expect(Set(sequences).count == 50)
            let stored = try await db.scalar("SELECT count(*)::int FROM broker.audit_event")
            #expect(try await db.scalar("SELECT max(sequence)::int FROM broker.audit_event") == stored)
            let result = try await fixture.verify(db)
            #expect(result.isIntact, "\(result)")
            #expect(result.database.events == stored && result.mirror.events == stored)
            // Group commit: a checkpoint ends each write that reaches the interval, and close() adds one if needed.
            #expect(result.database.checkpoints >= 1)
        }
    }

    /// A CLI command writing beside a running server: two trails on one database, sharing the mirror directory (as
    /// they do by default) or each with its own. Every write succeeds (a writer that finds the chain advanced by the
    /// other chains again on the new head), the chain stays gapless, and the mirror of the last writer holds all of it
    /// (a separate mirror catches up with the other writer's events whenever its own trail next writes).
    @Test(arguments: [true, false])
    func twoProcessesWritingOneTrailKeepOneChainAndCompleteMirrors(sharingTheMirror: Bool) async throws {
        let first = Fixture()
        let second = sharingTheMirror ? first : Fixture(key: first.key)
        defer {
            first.remove()
            second.remove()
        }
        try await TestPostgres.withDatabase { config, db in
            // Two writers contend for one mirror lock on purpose: give them the production timeout, not the fault tests'
            // short one, so a loaded machine makes them wait rather than fail.
            let server = try await first.open(config, writeTimeout: .seconds(15))
            let cli = try await second.open(config, writeTimeout: .seconds(15))
            do {
                for n in 0..<20 {
                    // Interleaved, and in bursts: each trail's in-memory head is stale whenever the other wrote last.
                    try await (n % 3 == 0 ? cli : server).record(try Self.draft(n))
                    if n % 5 == 0 {
                        async let a = server.record(try Self.draft(100 + n))
                        async let b = cli.record(try Self.draft(200 + n))
                        _ = try await (a, b)
                    }
                }
            } catch {
                // Close both trails before failing: a trail dropped unclosed leaves its connection open, and
                // postgres-nio stops the whole test process on that.
                await cli.close()
                await server.close()
                throw error
            }
            await cli.close()
            await server.close()
            let sequences = try await db.scalar("SELECT count(*)::int FROM broker.audit_event")
            #expect(sequences == (try await db.scalar("SELECT max(sequence)::int FROM broker.audit_event")))
            #expect(try await first.verify(db).isIntact)
        }
    }

    @Test func recordOutputRecordsTheDigestOfTheExactBytesBeforeHandingThemBack() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config)
            let output = Array(#"{"rows":[]}"#.utf8)
            let (event, released) = try await trail.recordOutput(output) { digest in
                try AuditEventDraft(actor: "researcher-1", role: "researcher", action: .queryRun, outcome: .allowed, outputDigest: digest)
            }
            #expect(released == output)
            #expect(event.outputDigest == AuditDigest.sha256(of: output))
            let digest = try #require(event.outputDigest).hex
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.audit_event WHERE line LIKE \("%" + digest + "%")") == 1)
            await trail.close()
        }
    }

    @Test func anUnwritableMirrorReleasesNothingAndTheChainContinuesAfterwards() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config)
            // Today's mirror file cannot be opened for appending: a directory stands in its place.
            let today = "\(fixture.mirrorDirectory)/audit-\(AuditTimestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))!.date).jsonl"
            try FileManager.default.createDirectory(atPath: today, withIntermediateDirectories: true)
            var handedBack: [UInt8]?
            let error = await #expect(throws: StoreError.self) {
                handedBack = try await trail.recordOutput(Array("table".utf8)) { _ in try Self.draft(1) }.output
            }
            #expect(error?.code == .auditUnavailable)
            #expect(handedBack == nil)
            #expect(try await db.scalar("SELECT count(*)::int FROM broker.audit_event") == 0)
            #expect(await trail.head == .genesis)

            try FileManager.default.removeItem(atPath: today)
            #expect(try await trail.record(try Self.draft(2)).sequence == 1)
            await trail.close()
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test func aLostDatabaseConnectionReleasesNothingAndLeavesNoOrphanMirrorLine() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config)
            try await trail.record(try Self.draft(1))
            try await db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            let error = await #expect(throws: StoreError.self) { try await trail.record(try Self.draft(2)) }
            #expect(error?.code == .auditUnavailable)
            var mirrorLines = 0
            try fixture.mirror.forEachLine { _, _, _ in mirrorLines += 1 }
            #expect(mirrorLines == 1)
            // The trail reconnects on the next write and the chain goes on without a gap.
            #expect(try await trail.record(try Self.draft(3)).sequence == 2)
            await trail.close()
            #expect(try await fixture.verify(db).isIntact)
        }
    }

    @Test func reopeningContinuesTheChainAndCutsEventsThatNeverCommitted() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            var trail = try await fixture.open(config)
            for n in 0..<3 { try await trail.record(try Self.draft(n)) }
            await trail.close()  // 3 events + checkpoint
            // A crash between the mirror write and the database commit leaves one extra line in the mirror.
            let path = try #require(try fixture.mirror.files().last)
            var lastLine = ""
            for try await line in try await db.query("SELECT line FROM broker.audit_event ORDER BY sequence DESC LIMIT 1").decode(String.self) {
                lastLine = line
            }
            var chain = AuditChain(head: try AuditJSONL.decode(lastLine).head)
            let orphan = chain.append(try Self.draft(99), at: AuditTimestamp(millisecondsSinceEpoch: 1_800_000_000_000)!)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: AuditJSONL.encode(orphan) + [0x0A])
            try handle.close()

            trail = try await fixture.open(config)
            #expect(await trail.head.sequence == 4)
            #expect(try await trail.record(try Self.draft(4)).sequence == 5)
            await trail.close()
            let result = try await fixture.verify(db)
            #expect(result.isIntact, "\(result)")
            #expect(result.database.checkpoints == 2)
        }
    }

    @Test func storesThatDisagreeStopTheTrailFromOpening() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, _ in
            let trail = try await fixture.open(config)
            try await trail.record(try Self.draft(1))
            await trail.close()
            for file in try fixture.mirror.files() { try FileManager.default.removeItem(atPath: file) }
            let error = await #expect(throws: StoreError.self) { _ = try await fixture.open(config) }
            #expect(error?.message.contains("disagree") == true)
        }
    }

    @Test func aMirrorFromAnotherDatabaseIsNeverCutOrMixed() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { first, firstDB in
            let trail = try await fixture.open(first)
            try await trail.record(try Self.draft(1))
            await trail.close()
            try await TestPostgres.withDatabase { second, _ in
                let error = await #expect(throws: StoreError.self) { _ = try await fixture.open(second) }
                #expect(error?.message.contains("another --audit-dir") == true)
            }
            #expect(try await fixture.verify(firstDB).isIntact, "the first database's mirror is untouched")
        }
    }

    enum Damage: String, CaseIterable, Sendable {
        case editMirrorField, deleteMirrorLine, swapMirrorLines, truncateMirror, rewriteDatabaseRow, deleteDatabaseRow
    }

    @Test(arguments: Damage.allCases)
    func everyKindOfDamageIsDetected(_ damage: Damage) async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config, checkpointInterval: 5)
            for n in 0..<12 { try await trail.record(try Self.draft(n)) }
            await trail.close()
            #expect(try await fixture.verify(db).isIntact)

            let path = try #require(try fixture.mirror.files().last)
            var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            switch damage {
            case .editMirrorField: lines[4] = lines[4].replacingOccurrences(of: "\"researcher-4\"", with: "\"researcher-5\"")
            case .deleteMirrorLine: lines.remove(at: 4)
            case .swapMirrorLines: lines.swapAt(3, 4)
            case .truncateMirror: lines.removeLast(2)
            case .rewriteDatabaseRow, .deleteDatabaseRow:
                try await db.execute("DROP TRIGGER audit_event_no_update_or_delete ON broker.audit_event")
                if damage == .rewriteDatabaseRow {
                    try await db.execute("UPDATE broker.audit_event SET line = replace(line, '\"researcher-4\"', '\"researcher-5\"') WHERE sequence = 5")
                } else {
                    try await db.execute("DELETE FROM broker.audit_event WHERE sequence = 5")
                }
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

            let result = try await fixture.verify(db)
            #expect(!result.isIntact)
            #expect(result.disagreement != nil, "the two stores must no longer agree")
            switch damage {
            case .editMirrorField, .deleteMirrorLine, .swapMirrorLines:
                #expect(result.mirror.failure?.sequence == 5 || result.mirror.failure?.lineNumber == 5, "\(result.mirror)")
                #expect(result.database.isIntact)
            case .truncateMirror:
                #expect(result.disagreement?.contains("the mirror ends after") == true)
            case .rewriteDatabaseRow, .deleteDatabaseRow:
                #expect(result.database.failure?.sequence == 5 || result.database.failure?.sequence == 6, "\(result.database)")
                #expect(result.mirror.isIntact)
            }
        }
    }
}
