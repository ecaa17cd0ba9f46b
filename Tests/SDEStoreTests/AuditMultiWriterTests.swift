import Foundation
import PostgresNIO
import SDEAudit
import SDEStore
import Testing

/// Two broker processes writing one audit trail (issue 13: `swift test` crashed under load with a 23505 on the audit
/// insert, then "PostgresConnection deinitialized before being closed"): however often the other writer moves the
/// head, every write succeeds on the new head, the chain stays one gapless chain, and every connection opened is closed.
@Suite struct AuditMultiWriterTests {
    typealias Fixture = AuditTrailTests.Fixture

    /// Connections to this test's database other than the test's own session.
    static func otherConnections(_ db: DatabaseSession) async throws -> Int {
        try await db.scalar(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    }

    @Test(arguments: [true, false])
    func twoTrailsWritingOneDatabaseManyTimesKeepOneChainAndCloseEveryConnection(sharingTheMirror: Bool) async throws {
        let first = Fixture()
        let second = sharingTheMirror ? first : Fixture(key: first.key)
        defer {
            first.remove()
            second.remove()
        }
        try await TestPostgres.withDatabase { config, db in
            let server = try await first.open(config, writeTimeout: .seconds(20))
            let cli = try await second.open(config, writeTimeout: .seconds(20))
            let writers = 4, perWriter = 40
            let outcome = await Result(catching: {
                try await withThrowingTaskGroup(of: [Int64].self) { group in
                    for (index, trail) in [server, cli].enumerated() {
                        for writer in 0..<writers {
                            group.addTask {
                                var sequences: [Int64] = []
                                for n in 0..<perWriter {
                                    sequences.append(try await trail.record(try AuditTrailTests.draft(index * 1000 + writer * 100 + n)).sequence)
                                }
                                return sequences
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            })
            // Close both trails before judging: a trail dropped unclosed leaves its connection open.
            await cli.close()
            await server.close()
            let sequences = try outcome.get()
            #expect(sequences.count == 2 * writers * perWriter && Set(sequences).count == sequences.count, "every write succeeded, each once")
            let stored = try await db.scalar("SELECT count(*)::int FROM broker.audit_event")
            #expect(try await db.scalar("SELECT max(sequence)::int FROM broker.audit_event") == stored, "gapless")
            let result = try await first.verify(db)
            #expect(result.isIntact, "\(result)")
            var open = try await Self.otherConnections(db)
            for _ in 0..<50 where open > 0 {
                try await Task.sleep(for: .milliseconds(100))
                open = try await Self.otherConnections(db)
            }
            #expect(open == 0, "every connection the trails opened is closed")
        }
    }
}

extension Result where Failure == any Error {
    /// The result of `body`.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
