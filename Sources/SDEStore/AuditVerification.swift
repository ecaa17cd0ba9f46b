import Crypto
import PostgresNIO
public import SDEAudit
public import SDECommon

/// `sde-broker audit verify`: checks both stores of the audit trail and that they agree.
///
/// Each store is verified on its own (every hash, the sequence without gaps, checkpoint signatures and signed roots
/// against the broker's public keys, the gap between checkpoints, and that the trail extends every checkpoint a witness
/// holds), and the two are compared line for line: an event deleted, edited or added in one store only is named by its
/// sequence number. The database's `sequence` and `hash` columns must match the line they hold.
public struct AuditVerification: Sendable {
    /// The result for one store.
    public var database: AuditVerificationReport
    /// The result for the JSONL mirror.
    public var mirror: AuditVerificationReport
    /// The first place where the stores disagree, if any.
    public var disagreement: String?
    /// The key the trail was judged by, and where it came from (for the report).
    public var trustedKey: (key: AuditPublicKey, source: String)?
    /// What else is wrong: a pinned key that differs from the configured one, a witness's checkpoint that does not verify.
    public var problems: [String] = []

    /// True when both stores verify and agree, and nothing else is wrong.
    public var isIntact: Bool { database.isIntact && mirror.isIntact && disagreement == nil && problems.isEmpty }

    /// Verifies the trail in `db` and `mirror`, streaming both.
    /// - Parameters:
    ///   - witnessed: checkpoints held outside the trail (by a witness, or with a release) that it must extend.
    ///   - policy: the broker's configured gap policy, which holds where no signed checkpoint records one (before the first).
    ///   - now: when given, a tail that waited longer for its checkpoint than the policy allows is a failure.
    ///   - progress: told of every event read, from either store (the total once the mirror is read).
    public static func run(
        _ db: DatabaseSession, mirror: AuditMirror, trustedKeys: [AuditPublicKey], witnessed: [AuditTreeHead] = [],
        policy: AuditCheckpointPolicy = .ceiling, now: AuditTimestamp? = nil, progress: ProgressReporter? = nil
    ) async throws -> AuditVerification {
        var databaseVerifier = AuditVerifier(trustedKeys: trustedKeys, witnessed: witnessed, policy: policy, now: now)
        var mirrorVerifier = AuditVerifier(trustedKeys: trustedKeys, witnessed: witnessed, policy: policy, now: now)
        var disagreement: String?
        var compared = 0

        // The mirror is read in chunks; only a digest and the place of each line are kept for the comparison.
        var mirrorLines: [(digest: SHA256Digest, file: String, number: Int)] = []
        try mirror.forEachLine { line, file, number in
            _ = mirrorVerifier.consume(line: line, lineNumber: number)
            mirrorLines.append((SHA256.hash(data: line), file, number))
            progress?.advance(by: 1)
        }
        progress?.setTotal(2 * mirrorLines.count)
        let rows = try await db.query("SELECT sequence, hash, line FROM broker.audit_event ORDER BY sequence", "read the audit trail")
        for try await (sequence, hash, line) in rows.decode((Int64, String, String).self) {
            let bytes = Array(line.utf8)
            // The verifier's head is the event just consumed, so the row's columns are checked without decoding twice.
            if databaseVerifier.consume(line: bytes, lineNumber: Int(sequence)) {
                let head = databaseVerifier.report.head
                if head.sequence != sequence || head.hash.hex != hash {
                    disagreement = disagreement ?? "database row \(sequence): its sequence or hash column does not match the event it holds"
                }
            }
            if disagreement == nil {
                if compared < mirrorLines.count {
                    if mirrorLines[compared].digest != SHA256.hash(data: bytes) {
                        let place = mirrorLines[compared]
                        disagreement = "database row \(sequence) differs from the mirror's \(place.file) line \(place.number)"
                    }
                } else {
                    disagreement = "the mirror ends after \(compared) events; the database has more, from sequence \(sequence)"
                }
            }
            compared += 1
            progress?.advance(by: 1)
        }
        if disagreement == nil, compared < mirrorLines.count {
            let place = mirrorLines[compared]
            disagreement = "the database ends after \(compared) events; the mirror has more, from \(place.file) line \(place.number)"
        }
        return AuditVerification(database: databaseVerifier.report, mirror: mirrorVerifier.report, disagreement: disagreement)
    }
}
