public import SDEService
import Foundation
import NIOCore
import PostgresNIO
import SDECommon

/// Published regulator releases, `broker.release_version`: append-only (triggers refuse UPDATE, DELETE and TRUNCATE;
/// `sde_broker` may only INSERT and SELECT), versions numbered 1, 2, 3, ... per release, each row holding the
/// document's bytes and their SHA-256 (checked by the table too).
///
/// ```swift
/// if let release = try await ReleaseStore.latest(id: "cqc-waits-by-la-2024-25", on: db) {
///     print(release.version, release.sha256)   // serve release.json or release.csv
/// }
/// ```
public enum ReleaseStore {
    /// The advisory-lock namespace that keeps one release's versions in order (keyed by release id).
    static let lockNamespace = "sde.release_version"

    /// The latest version of release `id`, or `nil` when it was never published.
    public static func latest(id: String, on db: DatabaseSession) async throws(StoreError) -> StoredRelease? {
        try await read(
            """
            SELECT \(unescaped: columns) FROM broker.release_version WHERE release_id = \(id) ORDER BY version DESC LIMIT 1
            """, "read the latest version of release \(id)", on: db
        ).first
    }

    /// Version `version` of release `id`, or `nil` when there is no such version.
    public static func version(_ version: Int, of id: String, on db: DatabaseSession) async throws(StoreError) -> StoredRelease? {
        try await read(
            "SELECT \(unescaped: columns) FROM broker.release_version WHERE release_id = \(id) AND version = \(version)",
            "read version \(version) of release \(id)", on: db
        ).first
    }

    /// The latest version of every published release, by id.
    public static func list(on db: DatabaseSession) async throws(StoreError) -> [ReleaseSummary] {
        let what = "list releases"
        do {
            let rows = try await db.query(
                """
                SELECT DISTINCT ON (release_id) release_id, version, published_at, document_sha256
                FROM broker.release_version ORDER BY release_id, version DESC
                """, what)
            var result: [ReleaseSummary] = []
            for try await (id, version, published, sha256) in rows.decode((String, Int, Date, String).self) {
                result.append(ReleaseSummary(id: id, version: version, published: published, sha256: sha256))
            }
            return result
        } catch {
            throw db.failure(error, what)
        }
    }

    /// The version the next publication of `id` gets: one more than the latest, or 1.
    public static func nextVersion(of id: String, on db: DatabaseSession) async throws(StoreError) -> Int {
        let what = "read the next version of release \(id)"
        do {
            let rows = try await db.query(
                "SELECT coalesce(max(version), 0) + 1 FROM broker.release_version WHERE release_id = \(id)", what)
            var next = 1
            for try await value in rows.decode(Int.self) { next = value }
            return next
        } catch {
            throw db.failure(error, what)
        }
    }

    /// Stores version `version` of release `id` as `sde_broker`. Call it only after the release's audit event
    /// committed (`auditSequence`), and the signed checkpoint covering it (`auditCheckpoint`), holding the release's
    /// advisory lock so that versions stay in order.
    public static func append(
        id: String, version: Int, policyDigest: String, auditSequence: Int64, json: [UInt8], csv: [UInt8], auditCheckpoint: String? = nil,
        on db: DatabaseSession
    ) async throws(StoreError) -> StoredRelease {
        let what = "store version \(version) of release \(id)"
        let sha256 = Hex.sha256(json)
        do {
            let published = try await db.transaction(what) {
                try await db.execute("SET LOCAL ROLE sde_broker", "become sde_broker to \(what)")
                let rows = try await db.query(
                    """
                    INSERT INTO broker.release_version
                        (release_id, version, policy_digest, audit_sequence, document, document_sha256, csv, audit_checkpoint)
                    VALUES (\(id), \(version), \(policyDigest), \(auditSequence), \(ByteBuffer(bytes: json)), \(sha256), \(ByteBuffer(bytes: csv)),
                        \(auditCheckpoint))
                    RETURNING published_at
                    """, what)
                var published: Date?
                for try await value in rows.decode(Date.self) { published = value }
                guard let published else { throw StoreError.databaseUnavailable("\(what) returned no row") }
                return published
            }
            return StoredRelease(
                id: id, version: version, published: published, policyDigest: policyDigest, auditSequence: auditSequence, json: json, csv: csv,
                sha256: sha256, auditCheckpoint: auditCheckpoint)
        } catch {
            throw db.failure(error, what)
        }
    }

    private static let columns = "release_id, version, published_at, policy_digest, audit_sequence, document, csv, document_sha256, audit_checkpoint"

    private static func read(_ query: PostgresQuery, _ what: String, on db: DatabaseSession) async throws(StoreError) -> [StoredRelease] {
        do {
            let rows = try await db.query(query, what)
            var result: [StoredRelease] = []
            for try await (id, version, published, digest, sequence, json, csv, sha256, checkpoint) in rows.decode(
                (String, Int, Date, String, Int64, ByteBuffer, ByteBuffer, String, String?).self)
            {
                result.append(
                    StoredRelease(
                        id: id, version: version, published: published, policyDigest: digest, auditSequence: sequence,
                        json: Array(json.readableBytesView), csv: Array(csv.readableBytesView), sha256: sha256, auditCheckpoint: checkpoint))
            }
            return result
        } catch {
            throw db.failure(error, what)
        }
    }
}
