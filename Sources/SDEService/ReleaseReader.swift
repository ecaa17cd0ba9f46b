public import SDEAudit
public import SDEPolicy

/// What regulators read: the releases published to their organisation and a stored release's exact bytes. Nothing
/// here computes anything; every read is audited with the SHA-256 of the bytes sent.
public struct ReleaseReader: Sendable {
    let gate: AccessGate
    let archive: any ReleaseArchive

    /// A reader through `gate` over `archive`.
    public init(gate: AccessGate, archive: any ReleaseArchive) {
        self.gate = gate
        self.archive = archive
    }

    /// The releases addressed to `caller`'s organisation, each with its latest stored version (if published).
    public func list(_ caller: Caller) async throws -> ReleaseListing {
        let access = try await gate.authorize(caller, .readIdentity, AuditSubject(.releaseList))
        guard access.grant.user.has(.regulator) else {
            throw try await gate.refuse(access, AccessDenial(.wrongRole, "Listing releases needs the regulator role."))
        }
        let readable = access.policy.releases.keys.sorted().compactMap {
            access.policy.decide(user: caller.user, action: .readRelease(release: $0), now: access.today).grant?.release
        }
        return try await gate.auditingFailures(of: access) {
            let latest = Dictionary(uniqueKeysWithValues: try await archive.list().map { ($0.id, $0) })
            let event = try await gate.recordAllowed(access)
            return ReleaseListing(releases: readable.map { ($0, latest[$0.id]) }, event: event)
        }
    }

    /// Version `version` (the latest when `nil`) of `release` as `format`, after its `release.read` event committed.
    public func read(_ caller: Caller, release id: String, version: Int?, format: TableFormat) async throws -> ReadRelease {
        let access = try await gate.authorize(caller, .readRelease(release: id), AuditSubject(.releaseRead, target: id))
        let stored = try await gate.auditingFailures(of: access) {
            let found = if let version { try await archive.version(version, of: id) } else { try await archive.latest(id: id) }
            guard let stored = found else {
                throw ServiceError(
                    .releaseNotPublished,
                    version == nil ? "Release '\(id)' has not been published yet." : "There is no such version of release '\(id)'.")
            }
            return stored
        }
        let (event, bytes) = try await gate.recordOutput(format == .csv ? stored.csv : stored.json, of: access, parameters: ["version": String(stored.version)])
        return ReadRelease(stored: stored, bytes: bytes, event: event)
    }
}

/// How a table or listing is returned.
public enum TableFormat: String, Sendable, Hashable {
    /// Canonical JSON.
    case json
    /// CSV with a header row.
    case csv
}

/// The releases a regulator may read, after the `release.list` event committed.
public struct ReleaseListing: Sendable {
    /// Each readable release with its latest stored version, if any.
    public let releases: [(release: Release, latest: ReleaseSummary?)]
    /// The audit event.
    public let event: AuditEvent
}

/// A stored release version and the bytes sent, after the `release.read` event committed.
public struct ReadRelease: Sendable {
    /// The stored version.
    public let stored: StoredRelease
    /// The bytes sent (its JSON or CSV).
    public let bytes: [UInt8]
    /// The audit event.
    public let event: AuditEvent
}
