import PostgresNIO
public import SDEPolicy

/// The signed policy versions the broker accepted, in the append-only table `broker.policy_version` (migration
/// `0014_policy_versions.sql`): the pinned root and every root and manifest version accepted since.
///
/// ```swift
/// switch try await PolicyVersionStore.admit(policy.trust, on: db) {
/// case .success(let admission): ...   // admission.pinned on the first set this broker ever accepted
/// case .failure(let refusal): ...     // a rollback: refusal.diagnostics name the file and line
/// }
/// ```
public enum PolicyVersionStore {
    /// The advisory lock namespace of admissions.
    static let lockNamespace = "sde.policy_version"

    /// Checks `trust` against the recorded versions and records what it adds, in one transaction as `sde_broker` under
    /// an advisory lock, so concurrent brokers and commands admit one after the other (the table's trigger refuses a
    /// version that does not go up, whatever happens here). `beforeCommit` runs with an accepted admission after its
    /// rows are written and before the commit; when it throws, the transaction is rolled back.
    public static func admit(
        _ trust: PolicyTrust, on db: DatabaseSession, beforeCommit: (PolicyAdmission) async throws -> Void = { _ in }
    ) async throws -> Result<PolicyAdmission, PolicyError> {
        try await db.transaction("admit the policy set's versions") {
            try await db.execute(
                """
                SELECT set_config('role', 'sde_broker', true), set_config('lock_timeout', '10s', true),
                       pg_advisory_xact_lock(hashtext(\(lockNamespace)), 0)
                """, "lock the policy versions")
            let admission = trust.admission(after: try await history(on: db))
            if case .success(let admitted) = admission {
                for record in admitted.recorded {
                    try await db.execute(
                        "INSERT INTO broker.policy_version (kind, version, digest) VALUES (\(record.kind.rawValue), \(record.version), \(record.digest))",
                        "record policy \(record.kind.rawValue) version \(record.version)")
                }
                try await beforeCommit(admitted)
            }
            return admission
        }
    }

    /// Every recorded version, oldest first.
    public static func history(on db: DatabaseSession) async throws(StoreError) -> [PolicyVersionRecord] {
        let what = "read the accepted policy versions"
        let rows = try await db.query("SELECT kind, version, digest FROM broker.policy_version ORDER BY accepted_at, kind, version", what)
        var records: [PolicyVersionRecord] = []
        do {
            for try await (kind, version, digest) in rows.decode((String, Int64, String).self) {
                guard let kind = PolicyVersionRecord.Kind(rawValue: kind) else {
                    throw StoreError.databaseUnavailable("\(what) failed: an unknown kind")
                }
                records.append(PolicyVersionRecord(kind: kind, version: Int(version), digest: digest))
            }
        } catch {
            throw db.failure(error, what)
        }
        return records
    }
}
