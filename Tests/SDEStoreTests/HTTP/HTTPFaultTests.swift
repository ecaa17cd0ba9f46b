import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import SDEAudit
import SDEHTTP
import SDEServer
import SDEStore
import Testing
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// What the running application does when its policy set fails: it serves nothing rather than something unchecked.
/// The reload is triggered by SIGHUP, which every running application's reloader hears (another suite's servers merely
/// reload their valid policies and audit that).
@Suite(.serialized) struct HTTPFaultTests {
    /// The reloader in the application's service group reloads on SIGHUP: an invalid set serves nothing (and the server
    /// is not ready) until a valid one is loaded; both reloads are audited.
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
                    #expect(try await broker.audit.verify(broker.db).isIntact)
                }
            }
        }
        withExtendedLifetime(hangups) {}
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
