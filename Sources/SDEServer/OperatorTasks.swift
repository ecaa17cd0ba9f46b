import Foundation
public import Logging
import SDEAudit
public import SDEExtracts
import SDEPolicy
public import SDEIngest
public import SDEService
public import SDEStore

extension BrokerConfiguration {
    /// Verifies both audit stores (database and mirror) against the broker's public key (default: the one beside the
    /// signing key in the state directory), holding the gap before the first checkpoint to the configured policy and
    /// failing a tail that has waited longer for its checkpoint than the policy allows.
    public func verifyAuditTrail(publicKey path: String? = nil, logger: Logger) async throws -> AuditVerification {
        let key = try AuditKeyFiles.publicKey(at: path ?? AuditKeyFiles(directory: stateDirectory).publicKeyPath)
        let policy = try auditCheckpointPolicy()
        return try await DatabaseSession.with(database, logger: logger) { db in
            try await AuditVerification.run(
                db, mirror: AuditMirror(directory: auditDirectory), trustedKeys: [key], policy: policy, now: AuditTrail.now())
        }
    }

    /// Loads a directory of extracts for an operator: `operate(ingest)` through the gate, then validate, pseudonymise
    /// and load (quarantining bad rows to `quarantine`, default `<state-dir>/quarantine/ingest-<time>.csv`), and record
    /// `data.ingested` with the counts. A refusal or failure is audited and thrown as ``ServiceError``.
    public func ingest(
        _ caller: Caller, directory: String, keys: (pseudonymisation: PseudonymisationKey, perturbation: PerturbationKey), quarantine: String?,
        broker: Broker, logger: Logger
    ) async throws -> Ingestor.Report {
        let access = try await broker.gate.authorize(caller, .operate(.ingest), AuditSubject(.dataIngested, target: "extracts"))
        let report = try await broker.gate.auditingFailures(of: access) {
            let ingestor = Ingestor(
                pseudonymiser: Pseudonymiser(key: keys.pseudonymisation), recordKeys: RecordKeys(key: keys.perturbation),
                localAuthorityCodes: Set(try LocalAuthority.load(from: policy.localAuthoritiesPath).map(\.code)),
                quarantinePath: try quarantine ?? defaultQuarantinePath())
            return try await DatabaseSession.with(database, logger: logger) { db in try await ingestor.ingest(directory: directory, db: db) }
        }
        try await broker.gate.recordAllowed(
            access,
            parameters: [
                "files_loaded": String(report.files.filter { !$0.alreadyIngested }.count), "rows_read": String(report.rowsRead),
                "rows_loaded": String(report.rowsLoaded), "rows_quarantined": String(report.rowsQuarantined),
                "record_keys_backfilled": String(report.recordKeysBackfilled),
            ])
        return report
    }

    private func defaultQuarantinePath() throws -> String {
        let dir = stateDirectory + "/quarantine"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        return "\(dir)/ingest-\(stamp).csv"
    }
}
