public import Logging
public import SDEAudit
public import SDECommon
public import SDEPolicy
import SDEDisclosure
public import SDEStore

/// Publishes a regulator release (`Policies/releases.yaml`) for an operator: decide access, compute the protected table
/// through the same path as a researcher's run (same differencing ledger), commit the `release.publish` audit event,
/// and only then store the new version immutably. Denials and failures are audited too.
///
/// ```swift
/// let publisher = ReleasePublisher(policy: policy, database: config, trail: trail, logger: logger)
/// if case .published(let stored, _) = try await publisher.publish(release: "cqc-waits-by-la-2024-25", user: "op-sam-reid", today: today) {
///     print(stored.version, stored.sha256)
/// }
/// ```
public struct ReleasePublisher: Sendable {
    /// What a publication gave the operator.
    public enum Outcome: Sendable {
        /// The stored version, written after its audit event committed.
        case published(StoredRelease, event: AuditEvent)
        /// Access was refused; the refusal was audited.
        case denied(AccessDenial, event: AuditEvent)
    }

    /// The advisory-lock namespace that keeps one release's versions in order (keyed by release id).
    static let lockNamespace = "sde.release_version"

    /// The runner whose policy set, connections, audit trail and ledger protection releases share with researchers' runs.
    let runner: QueryRunner

    /// A publisher that opens one connection to `database` per publication (regulators never trigger one: only
    /// operators, from the command line).
    public init(policy: PolicySet, database: DatabaseConfig, trail: AuditTrail, executor: QueryExecutor = QueryExecutor(), logger: Logger) {
        runner = QueryRunner(policy: policy, database: database, trail: trail, executor: executor, logger: logger)
    }

    /// Publishes the next version of `release` for `user` on `today`.
    /// - Throws: ``QueryRunner/Failure`` after an audited failure (nothing was stored); `StoreError.auditUnavailable`
    ///   when even that could not be recorded.
    public func publish(release: String, user: String, today: CivilDate) async throws -> Outcome {
        let decision = runner.policy.decide(user: user, action: .publishRelease(release: release), now: today)
        let grant: AccessGrant
        switch decision {
        case .deny(let denial):
            let event = try await runner.trail.record(
                try draft(user: user, role: nil, release: release, parameters: [:], outcome: .denied, reason: denial.reason.rawValue))
            return .denied(denial, event: event)
        case .allow(let allowed):
            grant = allowed
        }
        guard let run = grant.run else { preconditionFailure("a publishRelease grant always carries the query to run") }
        let parameters = run.parameters.values
        let (stored, event) = try await runner.auditingFailures {
            try await runner.connections.withDatabase { db in
                try await db.withAdvisoryLock(Self.lockNamespace, release) {
                    let version = try await ReleaseStore.nextVersion(of: release, on: db)
                    let table = try await runner.protection.protectedTable(run, source: .release(release), on: db)
                    let document = ProtectedTableDocument(
                        release: release, version: version, query: run.query.id, parameters: parameters, profile: run.profile, table: table)
                    // Audit first, then store: nothing may be readable that was not audited.
                    let (event, json) = try await runner.trail.release(document.json().canonicalBytes) { digest in
                        try draft(
                            user: user, role: "operator", release: release, parameters: parameters, outcome: .allowed, cells: document.cellCounts,
                            outputDigest: digest, policyDigest: grant.policyDigest)
                    }
                    let stored = try await ReleaseStore.append(
                        id: release, version: version, policyDigest: grant.policyDigest, auditSequence: event.sequence, json: json,
                        csv: Array(document.csv.utf8), on: db)
                    return (stored, event)
                }
            }
        } failure: { code in
            try draft(user: user, role: "operator", release: release, parameters: parameters, outcome: .error, reason: code, policyDigest: grant.policyDigest)
        }
        return .published(stored, event: event)
    }

    private func draft(
        user: String, role: String?, release: String, parameters: [String: String], outcome: AuditOutcome, reason: String? = nil,
        cells: AuditCellCounts = .none, outputDigest: AuditDigest? = nil, policyDigest: String? = nil
    ) throws -> AuditEventDraft {
        try QueryRunner.serviceDraft(
            user: user, role: role, project: nil, action: .releasePublish, target: release, parameters: parameters,
            policyDigest: policyDigest ?? runner.policy.digest, outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest)
    }
}
