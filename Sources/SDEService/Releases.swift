public import Foundation

/// One stored version of a regulator release: the protected-table document exactly as audited, and its CSV.
public struct StoredRelease: Sendable {
    /// The release id (`Policies/releases.yaml`).
    public let id: String
    /// 1 for the first publication, then 2, 3, ...
    public let version: Int
    /// When it was stored.
    public let published: Date
    /// The digest of the policy set it was computed under.
    public let policyDigest: String
    /// The sequence number of the `release.publish` audit event that released it.
    public let auditSequence: Int64
    /// The protected-table document, canonical JSON without its `audit` member (the bytes the audit event names).
    public let json: [UInt8]
    /// The same cells as CSV.
    public let csv: [UInt8]
    /// Lower-case hex SHA-256 of ``json``.
    public let sha256: String
    /// The signed checkpoint (a C2SP checkpoint note, see `AuditTreeHead`) written right after the release's audit
    /// event, which it covers: what `sde-broker audit verify --against` takes. `nil` for versions published before.
    public let auditCheckpoint: String?

    /// A version as stored.
    public init(
        id: String, version: Int, published: Date, policyDigest: String, auditSequence: Int64, json: [UInt8], csv: [UInt8], sha256: String,
        auditCheckpoint: String? = nil
    ) {
        self.id = id
        self.version = version
        self.published = published
        self.policyDigest = policyDigest
        self.auditSequence = auditSequence
        self.json = json
        self.csv = csv
        self.sha256 = sha256
        self.auditCheckpoint = auditCheckpoint
    }
}

/// The newest version of one release, for listings.
public struct ReleaseSummary: Sendable {
    /// The release id.
    public let id: String
    /// Its latest version.
    public let version: Int
    /// When that version was stored.
    public let published: Date
    /// Lower-case hex SHA-256 of that version's JSON document.
    public let sha256: String

    /// A listing entry.
    public init(id: String, version: Int, published: Date, sha256: String) {
        self.id = id
        self.version = version
        self.published = published
        self.sha256 = sha256
    }
}

/// Published regulator releases as regulators read them (append-only in the store).
public protocol ReleaseArchive: Sendable {
    /// The latest version of release `id`, or `nil` before its first publication.
    func latest(id: String) async throws -> StoredRelease?
    /// Version `version` of release `id`, if stored.
    func version(_ version: Int, of id: String) async throws -> StoredRelease?
    /// The latest version of every published release.
    func list() async throws -> [ReleaseSummary]
}

/// A release version about to be stored, after its `release.publish` audit event committed.
public struct NewReleaseVersion: Sendable {
    /// The release id.
    public let id: String
    /// The version it becomes.
    public let version: Int
    /// The digest of the policy set it was computed under.
    public let policyDigest: String
    /// The sequence number of its audit event.
    public let auditSequence: Int64
    /// The document's canonical JSON (the bytes the audit event names).
    public let json: [UInt8]
    /// The same cells as CSV.
    public let csv: [UInt8]
    /// The signed checkpoint covering its audit event.
    public let auditCheckpoint: String?

    /// A version to store.
    public init(id: String, version: Int, policyDigest: String, auditSequence: Int64, json: [UInt8], csv: [UInt8], auditCheckpoint: String? = nil) {
        self.id = id
        self.version = version
        self.policyDigest = policyDigest
        self.auditSequence = auditSequence
        self.json = json
        self.csv = csv
        self.auditCheckpoint = auditCheckpoint
    }
}
