import Foundation
import SDEAudit
public import SDEService
import Synchronization

/// Published regulator releases in memory, append-only as the store keeps them: versions are numbered 1, 2, ... per
/// release, a stored version never changes, and each carries the SHA-256 of its JSON. ``InMemoryQueryStore``'s
/// sessions append here; regulators read from here.
///
/// ```swift
/// let releases = InMemoryReleaseArchive()
/// let store = InMemoryQueryStore(releases: releases)
/// ...
/// #expect(releases.versions(of: "r1").map(\.version) == [1, 2])
/// ```
public final class InMemoryReleaseArchive: ReleaseArchive, Sendable {
    private let versionsByID = Mutex<[String: [StoredRelease]]>([:])
    private let failure = Mutex<PortFailure?>(nil)

    /// An empty archive.
    public init() {}

    /// Every stored version of release `id`, oldest first.
    public func versions(of id: String) -> [StoredRelease] {
        versionsByID.withLock { $0[id] ?? [] }
    }

    /// Makes every later read throw `failure` (`nil`: readable again).
    public func failReads(with failure: PortFailure?) {
        self.failure.withLock { $0 = failure }
    }

    /// The version the next publication of `id` gets.
    public func nextVersion(of id: String) -> Int {
        versionsByID.withLock { ($0[id]?.count ?? 0) + 1 }
    }

    /// Stores `new`, which must be the next version of its release (as the store's primary key and trigger insist).
    public func append(_ new: NewReleaseVersion) throws(PortFailure) -> StoredRelease {
        try versionsByID.withLock { versions throws(PortFailure) -> StoredRelease in
            let stored = versions[new.id] ?? []
            guard new.version == stored.count + 1 else {
                throw PortFailure(.databaseUnavailable, "release \(new.id) version \(new.version) does not follow \(stored.count)")
            }
            let release = StoredRelease(
                id: new.id, version: new.version, published: Date(), policyDigest: new.policyDigest, auditSequence: new.auditSequence,
                json: new.json, csv: new.csv, sha256: AuditDigest.sha256(of: new.json).hex, auditCheckpoint: new.auditCheckpoint)
            versions[new.id] = stored + [release]
            return release
        }
    }

    public func latest(id: String) async throws -> StoredRelease? {
        try checkReadable()
        return versions(of: id).last
    }

    public func version(_ version: Int, of id: String) async throws -> StoredRelease? {
        try checkReadable()
        return versions(of: id).first { $0.version == version }
    }

    public func list() async throws -> [ReleaseSummary] {
        try checkReadable()
        return versionsByID.withLock { versions in
            versions.values.compactMap(\.last).sorted { $0.id < $1.id }.map {
                ReleaseSummary(id: $0.id, version: $0.version, published: $0.published, sha256: $0.sha256)
            }
        }
    }

    private func checkReadable() throws(PortFailure) {
        if let failure = failure.withLock({ $0 }) { throw failure }
    }
}
