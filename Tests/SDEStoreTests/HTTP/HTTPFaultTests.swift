import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import SDEAudit
import SDEHTTP
import SDEPolicyFiles
import SDEServer
import SDEStore
import Testing
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// What the running application does when its policy set or its audit trail fails: it serves nothing rather than
/// something unchecked or unaudited. Serialized: the reload is triggered by SIGHUP, which every running application's
/// reloader hears (another suite's servers merely reload their valid policies and audit that), and a reload during the
/// audit outage below would find the trail failing too.
@Suite(.serialized) struct HTTPFaultTests {
    /// The reloader in the application's service group reloads on SIGHUP: an invalid set, or one that does not extend the
    /// signed versions pinned at start, serves nothing (and the server is not ready) until a valid one is loaded; every
    /// reload is audited.
    @Test func anInvalidPolicyReloadServesNothingUntilAValidOneIsLoaded() async throws {
        let policies = FileManager.default.temporaryDirectory.appendingPathComponent("sde-policies-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: QueryExecutionTests.root + "/Policies", toPath: policies)
        defer { try? FileManager.default.removeItem(atPath: policies) }
        let users = policies + "/users.yaml"
        let valid = try Data(contentsOf: URL(fileURLWithPath: users))
        // Dispatch's SIGHUP handler is installed for the whole process (for good) before the first SIGHUP is sent: one
        // sent before the reloader had registered its own would otherwise end the test process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        do {
            try await TestBroker.with(persons: nil, configure: { $0.policyDirectory = policies }) { broker, app in
                try await app.test(.router) { client in
                    let token = try await broker.token(for: "r-priya-shah")
                    let window = ["from": "2024Q1", "to": "2024Q1"]
                    try Data("users: [".utf8).write(to: URL(fileURLWithPath: users))
                    try await Self.hangUp { try await client.request(.get, "/readyz").status == 503 }
                    let refused = try await client.run("P2025-002", "requests-by-la-quarter", window, token: token)
                    #expect(refused.status == 503 && refused.errorCode == "policy_invalid")
                    #expect(refused.json["rows"] == nil)
                    let notReady = try await client.request(.get, "/readyz")
                    #expect(notReady.status == 503 && notReady.errorCode == "not_ready")

                    try valid.write(to: URL(fileURLWithPath: users))
                    try await Self.hangUp { try await client.request(.get, "/readyz").status == 200 }
                    #expect(try await client.run("P2025-002", "requests-by-la-quarter", window, token: token).status == 200)
                    // Each reload is audited right after it takes effect; wait for the second event's commit.
                    var actions: Set<AuditAction> = []
                    for _ in 0..<50 where !actions.isSuperset(of: [.policyRejected, .policyLoaded]) {
                        try await AuditEvents.forEach(in: broker.db) { actions.insert($0.action) }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(actions.isSuperset(of: [.policyRejected, .policyLoaded]))

                    // A set signed under another root than the one pinned at start (a key of the operator's own): a
                    // reload refuses it and serves nothing, audited as a rollback; the pinned set is served again after.
                    let original = try PolicyDirectory.files(at: policies)
                    try TestTrust.write(try TestTrust.resign(original, manifestVersion: 9), to: policies)
                    try await Self.hangUp { try await client.request(.get, "/readyz").status == 503 }
                    let forged = try await client.run("P2025-002", "requests-by-la-quarter", window, token: token)
                    #expect(forged.status == 503 && forged.errorCode == "policy_invalid")
                    var reasons: [String] = []
                    for _ in 0..<50 where !reasons.contains("policy_rollback") {
                        reasons = []
                        try await AuditEvents.forEach(in: broker.db) {
                            if $0.action == .policyRejected, let reason = $0.reason { reasons.append(reason) }
                        }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(reasons.contains("policy_rollback"))
                    try TestTrust.write(original, to: policies)
                    try await Self.hangUp { try await client.request(.get, "/readyz").status == 200 }
                    // A reload a late SIGHUP started may still be writing its event (the two stores are read one after
                    // the other): verify once the trail is quiet; a damaged trail stays damaged.
                    var intact = false
                    for _ in 0..<50 where !intact {
                        intact = try await broker.audit.verify(broker.db).isIntact
                        if !intact { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(intact)
                }
            }
        }
        withExtendedLifetime(hangups) {}
    }

    /// The populations of a run go into the differencing ledger before its audit event is written. If that write then
    /// fails (here the mirror: a directory stands where today's file goes), the caller gets 503 `audit_unavailable` and
    /// not one cell, over a real socket, while the ledger keeps the populations (later answers are only more careful).
    @Test func anAuditFailureAfterTheLedgerWriteReleasesNothing() async throws {
        let metrics = BrokerMetrics()
        try await TestBroker.with(persons: nil, metrics: metrics) { broker, app in
            typealias Ledger = DifferencingLedgerTests
            for la in [Ledger.hartlepool, Ledger.middlesbrough] { try await Ledger.requests(broker.db, la: la, day: "2024-05-15", count: 30) }
            let token = try await broker.token(for: "r-amara-bello")
            let now = AuditTimestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))!
            let todaysMirror = "\(broker.audit.mirrorDirectory)/audit-\(now.date).jsonl"
            try FileManager.default.createDirectory(atPath: todaysMirror, withIntermediateDirectories: true)
            let window = ["from": "2024Q2", "to": "2024Q2"]
            try await app.test(.live) { client in
                let reply = try await client.run("P2025-002", "requests-by-la-quarter", window, token: token)
                #expect(reply.status == 503 && reply.errorCode == "audit_unavailable")
                // The body is the error and nothing else: no table, no row, no cell, no area of the table.
                #expect(Set(reply.json.keys) == ["error"], "\(reply.text)")
                #expect(!reply.text.contains("E06000001") && !reply.text.contains("perturbed"))
                #expect(reply.auditSequence == nil, "no event committed")
                #expect(try await broker.lastAuditSequence() == 0)
                // The ledger holds the run's populations with their true counts: Hartlepool's 30 persons in 2024Q2.
                let hartlepool = try await broker.db.scalar(
                    """
                    SELECT persons::int FROM broker.released_population
                    WHERE predicates = \(Ledger.hartlepoolPredicates)::jsonb AND window_from = '2024-04-01' AND window_to = '2024-06-30'
                      AND source = 'project' AND source_id = 'P2025-002'
                    """)
                #expect(hartlepool == 30)
                let recorded = try await broker.db.scalar("SELECT count(*)::int FROM broker.released_population")
                let outcomes = try await client.request(.get, "/metrics").text
                #expect(outcomes.contains(#"sde_query_runs_total{outcome="audit_unavailable"} 1"#))

                // Once the mirror can be written, the same run is released and audited, and adds nothing to the ledger.
                try FileManager.default.removeItem(atPath: todaysMirror)
                let released = try await client.run("P2025-002", "requests-by-la-quarter", window, token: token)
                #expect(released.status == 200 && released.json["rows"] != nil)
                #expect(try await broker.event(released.auditSequence)?.action == .queryRun)
                #expect(try await broker.db.scalar("SELECT count(*)::int FROM broker.released_population") == recorded)
                #expect(try await broker.audit.verify(broker.db).isIntact)
            }
        }
    }

    /// Sends SIGHUP to this process until `done` (the reloader may not have registered for it yet).
    static func hangUp(until done: () async throws -> Bool) async throws {
        for _ in 0..<100 {
            kill(getpid(), SIGHUP)
            try await Task.sleep(for: .milliseconds(50))
            if try await done() { return }
        }
        Issue.record("SIGHUP did not reload the policy set")
    }
}
