import SDECommon
public import SDEAudit
import SDEPolicy

/// Publishes a regulator release (`Policies/releases.yaml`) for an operator: through the gate, compute the protected
/// table by the same pipeline as a researcher's run (same differencing ledger), commit the `release.publish` audit
/// event and a signed checkpoint covering it, and only then store the new version immutably, with that checkpoint.
/// Refusals and failures are audited too.
///
/// ```swift
/// let published = try await publisher.publish(operatorCaller, release: "cqc-waits-by-la-2024-25")
/// print(published.stored.version, published.stored.sha256)
/// ```
public struct ReleasePublisher: Sendable {
    let gate: AccessGate
    let pipeline: ProtectedQueryPipeline

    /// A publisher through `gate` over `pipeline`.
    public init(gate: AccessGate, pipeline: ProtectedQueryPipeline) {
        self.gate = gate
        self.pipeline = pipeline
    }

    /// Publishes the next version of `release` for `caller`.
    /// - Throws: ``ServiceError`` (refused or failed, audited; nothing was stored).
    public func publish(_ caller: Caller, release: String) async throws -> PublishedRelease {
        let access = try await gate.authorize(caller, .publishRelease(release: release), AuditSubject(.releasePublish, target: release))
        guard let run = access.grant.run else { preconditionFailure("a publishRelease grant always carries the query to run") }
        let parameters = run.parameters.values
        return try await gate.auditingFailures(of: access, parameters: parameters) {
            try await pipeline.store.withSession { db in
                try await db.withReleaseLock(release) {
                    let version = try await db.nextVersion(ofRelease: release)
                    let table = try await pipeline.protectedTable(run, source: .release(release), in: db)
                    let document = ProtectedTableDocument(
                        release: release, version: version, query: run.query.id, parameters: parameters, profile: run.profile, table: table)
                    // Audit first, then store: nothing may be readable that was not audited.
                    let (event, json) = try await gate.recordOutput(
                        document.json().canonicalBytes, of: access, parameters: parameters, cells: document.cellCounts)
                    // The release carries a signed checkpoint of the trail that covers its own event: the regulator's copy
                    // of the trail's head. It is kept beside the document, so the event's output digest still names the
                    // document's bytes exactly.
                    let checkpoint = try await gate.checkpoint()
                    let stored = try await db.append(
                        NewReleaseVersion(
                            id: release, version: version, policyDigest: access.grant.policyDigest, auditSequence: event.sequence, json: json,
                            csv: Array(document.csv.utf8), auditCheckpoint: checkpoint.checkpoint?.note))
                    return PublishedRelease(stored: stored, event: event)
                }
            }
        }
    }
}

/// A release version stored after its audit event committed.
public struct PublishedRelease: Sendable {
    /// The stored version.
    public let stored: StoredRelease
    /// Its `release.publish` event.
    public let event: AuditEvent
}
