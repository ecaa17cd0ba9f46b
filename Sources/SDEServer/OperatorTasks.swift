import Foundation
public import Logging
import SDEAudit
public import SDECommon
public import SDEExtracts
import SDEPolicy
public import SDEIngest
public import SDEService
public import SDEStore

extension BrokerConfiguration {
    /// Verifies both audit stores (database and mirror), judged by the configured ``auditPublicKey`` (which must also be
    /// the key pinned in the database), else by the pinned key, else (a trail never opened since keys were pinned) by
    /// the public key in the state folder; and checks that the trail extends each checkpoint in `checkpointFiles`
    /// (a witness's `checkpoint`, a release's `SDE-Audit-Checkpoint`). `progress` is told of every event read.
    public func verifyAuditTrail(
        against checkpointFiles: [String] = [], progress: ProgressReporter? = nil, logger: Logger
    ) async throws -> AuditVerification {
        try await DatabaseSession.with(database, logger: logger) { db in
            let pinned = try await AuditTrail.pinnedKey(db)
            var problems: [String] = []
            let trusted: (key: AuditPublicKey, source: String)
            if let configured = auditPublicKey {
                trusted = (configured, "the configured audit public key")
                if let pinned, pinned != configured {
                    problems.append(
                        "the database pins \(pinned), not the configured key \(configured): the pin was changed (a swapped key pair?), or this is another broker's database"
                    )
                }
            } else if let pinned {
                trusted = (pinned, "the key pinned in the database at the first start; give --audit-public-key to judge by your own copy")
            } else {
                let key = try AuditKeyFiles.publicKey(at: AuditKeyFiles(directory: stateDirectory).publicKeyPath)
                trusted = (key, "the public key in the state folder (no key is pinned yet)")
            }
            var witnessed: [AuditTreeHead] = []
            for file in checkpointFiles {
                do { witnessed.append(try AuditWitness.checkpoint(at: file, verifiedBy: trusted.key)) } catch let error as AuditError {
                    problems.append("\(file) is not a checkpoint signed by \(trusted.key) (\(error.message)): a swapped key, or an altered file")
                }
            }
            var result = try await AuditVerification.run(
                db, mirror: AuditMirror(directory: auditDirectory), trustedKeys: [trusted.key], witnessed: witnessed,
                policy: try auditCheckpointPolicy(),
                now: AuditTrail.now(), progress: progress)
            result.trustedKey = trusted
            result.problems = problems
            return result
        }
    }

    /// Runs the witness in `directory` once (see ``AuditWitness/run(_:directory:key:)``): fetches the trail's latest
    /// signed checkpoint, checks it extends the one the witness holds, and keeps it.
    public func witnessAuditTrail(directory: String, logger: Logger) async throws -> AuditWitness.Report {
        try await DatabaseSession.with(database, logger: logger) { db in
            try await AuditWitness.run(db, directory: AuditWitness(directory: directory), key: auditPublicKey)
        }
    }

    /// Loads a directory of extracts for an operator: `operate(ingest)` through the gate, then validate, pseudonymise
    /// and load (quarantining bad rows to `quarantine`, default `<state-dir>/quarantine/ingest-<time>.csv`), and record
    /// `data.ingested` with the counts. A refusal or failure is audited and thrown as ``ServiceError``. `progress` is
    /// told of every batch of rows read.
    public func ingest(
        _ caller: Caller, directory: String, keys: (pseudonymisation: PseudonymisationKey, perturbation: PerturbationKey), quarantine: String?,
        broker: Broker, progress: ProgressReporter? = nil, logger: Logger
    ) async throws -> Ingestor.Report {
        let access = try await broker.gate.authorize(caller, .operate(.ingest), AuditSubject(.dataIngested, target: "extracts"))
        let report = try await broker.gate.auditingFailures(of: access) {
            let ingestor = Ingestor(
                pseudonymiser: Pseudonymiser(key: keys.pseudonymisation), recordKeys: RecordKeys(key: keys.perturbation),
                localAuthorityCodes: Set(try LocalAuthority.load(from: policy.localAuthoritiesPath).map(\.code)),
                quarantinePath: try quarantine ?? defaultQuarantinePath())
            return try await DatabaseSession.with(database, logger: logger) { db in try await ingestor.ingest(directory: directory, db: db, progress: progress) }
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
        // The broker's own directory of raw rows (NHS numbers included): owner-only even if an earlier version made it wider.
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        return "\(dir)/ingest-\(stamp).csv"
    }
}
