import Foundation
import PostgresNIO
import SDEAudit
import SDEStore
import Testing

/// Audit trail throughput, on demand only: `SDE_BENCH=1 swift test -c release --filter AuditBenchmarkTests`.
/// Prints audited appends per second (durable commits: mirror fsync + database commit) and verify events per second,
/// and checks that what was measured happened: every append is in the chain and the chain verifies.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SDE_BENCH"] == "1"))
struct AuditBenchmarkTests {
    @Test func auditedAppendsPerSecond() async throws {
        let fixture = AuditTrailTests.Fixture()
        defer { fixture.remove() }
        try await TestPostgres.withDatabase { config, db in
            let trail = try await fixture.open(config)
            let clock = ContinuousClock()
            let single = 500
            let singleTime = try await clock.measure {
                for n in 0..<single { try await trail.record(try AuditTrailTests.draft(n)) }
            }
            let writers = 32, each = 100
            let concurrentTime = try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for w in 0..<writers {
                        group.addTask { for n in 0..<each { try await trail.record(try AuditTrailTests.draft(w * each + n)) } }
                    }
                    try await group.waitForAll()
                }
            }
            await trail.close()
            // Each draft carries its number in `cells.released`: every append of both runs is in the chain, once.
            var appended: [Int] = []
            try await AuditEvents.forEach(in: db) { event in if event.action == .queryRun { appended.append(event.cells.released) } }
            #expect(appended.sorted() == (Array(0..<single) + Array(0..<writers * each)).sorted())
            #expect(try await fixture.verify(db).isIntact)
            print("audit appends, 1 writer: \(Self.rate(single, singleTime)) events/s")
            print("audit appends, \(writers) concurrent writers: \(Self.rate(writers * each, concurrentTime)) events/s")
        }
    }

    @Test func verifyEventsPerSecondOverAMillionEvents() async throws {
        let fixture = AuditTrailTests.Fixture()
        defer { fixture.remove() }
        let count = 1_000_000
        try await TestPostgres.withDatabase { _, db in
            // Build the chain directly (the trail would take minutes to write a million durable commits).
            var chain = AuditChain()
            let key = fixture.key
            try FileManager.default.createDirectory(atPath: fixture.mirrorDirectory, withIntermediateDirectories: true)
            let start = 1_800_000_000_000 as Int64
            var file: [UInt8] = []
            var batch: [AuditEvent] = []
            for n in 0..<count {
                let time = AuditTimestamp(millisecondsSinceEpoch: start + Int64(n))!
                let event = n % 1000 == 999 ? try chain.appendCheckpoint(at: time, signedBy: key) : chain.append(try AuditTrailTests.draft(n), at: time)
                AuditJSONL.append(event, to: &file)
                batch.append(event)
                if batch.count == 20_000 || n == count - 1 {
                    let lines = batch.map { String(decoding: AuditJSONL.encode($0), as: UTF8.self) }
                    try await db.execute(
                        "INSERT INTO broker.audit_event (sequence, hash, line) SELECT * FROM unnest(\(batch.map(\.sequence))::bigint[], \(batch.map(\.hash.hex))::text[], \(lines)::text[])")
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try Data(file).write(to: URL(fileURLWithPath: fixture.mirrorDirectory + "/audit-\(AuditTimestamp(millisecondsSinceEpoch: start)!.date).jsonl"))
            let clock = ContinuousClock()
            var result: AuditVerification?
            let time = try await clock.measure { result = try await fixture.verify(db) }
            #expect(result?.isIntact == true)
            print("audit verify, both stores and their comparison: \(Self.rate(count, time)) events/s over \(count) events")
        }
    }

    static func rate(_ count: Int, _ duration: Duration) -> Int {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return Int(Double(count) / seconds)
    }
}
