import Foundation
import HummingbirdTesting
import PostgresNIO
import SDEAudit
import SDECommon
import SDEPolicy
import SDEPolicyFiles
import SDEServer
import SDEService
import SDEStore
import Testing

/// Rollback protection and pinning against a real database: what `serve` and the command line (`withBroker`) accept.
@Suite struct PolicyVersionTests {
    /// A configuration of the broker on `config` with a policy directory, state and audit directories of its own.
    struct Scratch {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sde-policy-versions-\(UUID().uuidString)").path
        var policies: String { base + "/Policies" }

        func configuration(_ config: DatabaseConfig) -> BrokerConfiguration {
            var configuration = BrokerConfiguration(database: config)
            configuration.policyDirectory = policies
            configuration.sqlDirectory = TestPostgres.sqlDirectory
            configuration.stateDirectory = base + "/state"
            configuration.auditDirectory = base + "/audit"
            configuration.port = 0
            configuration.today = { QueryRunnerTests.today }
            return configuration
        }

        func remove() { try? FileManager.default.removeItem(atPath: base) }
    }

    /// The policy state a command line sees under `configuration` (it pins, records and audits as `withBroker` does).
    static func commandLineState(_ configuration: BrokerConfiguration) async throws -> PolicyState {
        try await configuration.withBroker(logger: TestPostgres.logger) { broker in await broker.gate.policies.state }
    }

    /// The recorded versions, as `kind version` strings in order.
    static func versions(_ db: DatabaseSession) async throws -> [String] {
        try await PolicyVersionStore.history(on: db).map { "\($0.kind.rawValue) \($0.version)" }
    }

    /// The broker's policy events, as `action reason` strings in order.
    static func policyEvents(_ db: DatabaseSession) async throws -> [String] {
        var events: [String] = []
        try await AuditEvents.forEach(in: db) { event in
            if event.action.rawValue.hasPrefix("policy.") {
                events.append([event.action.rawValue, event.reason].compactMap { $0 }.joined(separator: " "))
            }
        }
        return events
    }

    @Test func aRollbackToAnOlderSignedManifestIsRefusedAfterANewerOneWasAccepted() async throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        // Version 1: r-amara-bello runs P2025-002's queries. Version 2, signed later by the IG team: she is no longer a
        // member (the edit also voids the project's approval until it is re-signed: refused either way).
        let version1 = try TestTrust.resign(try TestTrust.example)
        let version2 = try TestTrust.resign(
            try TestTrust.example, manifestVersion: 2,
            edits: ["projects/P2025-002.yaml": { $0.replacingOccurrences(of: "members: [r-amara-bello, ", with: "members: [") }])
        let waits = AccessAction.runQuery(project: "P2025-002", query: "waits-by-la-quarter", parameters: ["from": "2023Q1", "to": "2025Q1"])
        try await TestPostgres.withDatabase { config, db in
            let configuration = scratch.configuration(config)
            try TestTrust.write(version1, to: scratch.policies)
            let first = try await Self.commandLineState(configuration)
            #expect(first.decide(user: "r-amara-bello", action: waits, now: QueryRunnerTests.today).grant != nil)
            #expect(try await Self.versions(db) == ["root 1", "manifest 1"])
            // The same set again records nothing and audits nothing.
            _ = try await Self.commandLineState(configuration)
            try TestTrust.write(version2, to: scratch.policies)
            let second = try await Self.commandLineState(configuration)
            #expect(second.decide(user: "r-amara-bello", action: waits, now: QueryRunnerTests.today).grant == nil)
            #expect(try await Self.versions(db) == ["root 1", "manifest 1", "manifest 2"])

            // The operator puts the older, properly signed set back: refused, naming the file and line, and audited.
            try TestTrust.write(version1, to: scratch.policies)
            let rolledBack = try await Self.commandLineState(configuration)
            let denial = try #require(rolledBack.decide(user: "r-amara-bello", action: waits, now: QueryRunnerTests.today).denial)
            #expect(denial.reason == .policyInvalid)
            #expect(denial.message.contains("\(scratch.policies)/manifest.yaml:4: manifest version 1 is older than version 2"), "\(denial.message)")
            guard case .invalid(let error) = rolledBack else { return }
            #expect(error.code == .rollback)
            #expect(try await Self.versions(db) == ["root 1", "manifest 1", "manifest 2"])
            #expect(try await Self.policyEvents(db) == ["policy.pinned", "policy.loaded", "policy.rejected policy_rollback"])

            // serve refuses to start on it too.
            let app = try await buildApplication(configuration, logger: TestPostgres.logger)
            let refused = await #expect(throws: ServerError.self) { try await app.test(.router) { _ in } }
            #expect(refused.map(String.init(describing:))?.contains("manifest version 1 is older than version 2") == true)
            #expect(
                try await AuditVerification.run(
                    db, mirror: AuditMirror(directory: configuration.auditDirectory),
                    trustedKeys: [try AuditKeyFiles(directory: configuration.stateDirectory).loadOrCreate().publicKey]
                ).isIntact)
        }
    }

    @Test func aRootChainThatDoesNotChainFromThePinnedRootIsRefused() async throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { config, db in
            let configuration = scratch.configuration(config)
            try TestTrust.write(try TestTrust.example, to: scratch.policies)
            #expect(try await Self.commandLineState(configuration).isReady)
            // Whoever writes Policies/ replaces the root with one holding their own key and signs a manifest with it:
            // valid offline (a first root is trusted on first use), refused against the root this broker pinned.
            let forged = try TestTrust.resign(try TestTrust.example, manifestVersion: 9, signer: ("ig-helen-moore", SigningKey()))
            try TestTrust.write(forged, to: scratch.policies)
            #expect(throws: Never.self) { try PolicyDirectory.load(at: scratch.policies, reference: try configuration.policy.referenceCodes()) }
            guard case .invalid(let error) = try await Self.commandLineState(configuration) else {
                Issue.record("a substituted root was accepted")
                return
            }
            #expect(error.diagnostics.map(\.description).contains { $0.hasPrefix("\(scratch.policies)/root/1.yaml:1: is not the root version 1") })
            #expect(try await Self.versions(db) == ["root 1", "manifest 1"])
        }
    }

    @Test func anUnsignedSetIsRefusedByServeAndTheCommandLineNamingTheFile() async throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        try await TestPostgres.withDatabase { config, db in
            let configuration = scratch.configuration(config)
            try TestTrust.write(try TestTrust.example.filter { $0.path != PolicyManifest.file }, to: scratch.policies)
            let serve = await #expect(throws: ServerError.self) { _ = try await buildApplication(configuration, logger: TestPostgres.logger) }
            #expect(serve.map(String.init(describing:))?.contains("\(scratch.policies)/manifest.yaml:1: missing the signed manifest") == true)
            let state = try await Self.commandLineState(configuration)
            let denial = state.decide(user: "op-dan-wright", action: .operate(.tokens), now: QueryRunnerTests.today).denial
            #expect(denial?.reason == .policyInvalid)
            #expect(denial?.message.contains("\(scratch.policies)/manifest.yaml:1: missing the signed manifest") == true, "\(denial?.message ?? "")")
            #expect(try await Self.versions(db).isEmpty, "nothing pinned")
        }
    }

    @Test func theVersionTableIsAppendOnlyAndOnlyGoesUp() async throws {
        try await TestPostgres.withDatabase { _, db in
            let policy = try PolicySet.load(try TestTrust.example, reference: try QueryExecutionTests.referenceCodes())
            guard case .success(let admission) = try await PolicyVersionStore.admit(policy.trust, on: db) else {
                Issue.record("refused")
                return
            }
            #expect(admission.pinned)
            let digest = String(repeating: "a", count: 64)
            await expectAppendOnly(
                db,
                [
                    "UPDATE broker.policy_version SET version = 7", "DELETE FROM broker.policy_version", "TRUNCATE broker.policy_version",
                ])
            // A version that does not go up is refused to the owner too (the trigger), whatever the broker decided.
            let lower = await #expect(throws: StoreError.self) {
                try await db.execute("INSERT INTO broker.policy_version (kind, version, digest) VALUES ('manifest', 1, \(digest))")
            }
            #expect(lower?.message.contains("P0001") == true)
        }
    }
}
