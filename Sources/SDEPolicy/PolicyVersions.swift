import SDECommon

/// A root or manifest version a broker accepted, as its database records it (`broker.policy_version`).
public struct PolicyVersionRecord: Sendable, Hashable, CustomStringConvertible {
    /// What was accepted.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A policy root (`root/<version>.yaml`).
        case root
        /// The signed manifest.
        case manifest
    }

    /// Root or manifest.
    public let kind: Kind
    /// Its version.
    public let version: Int
    /// Its digest (``PolicyRoot/digest``, ``PolicyManifest/digest``).
    public let digest: String

    /// A record.
    public init(kind: Kind, version: Int, digest: String) {
        self.kind = kind
        self.version = version
        self.digest = digest
    }

    /// `root 1 (sha256 ab12cd34ef56...)`.
    public var description: String { "\(kind.rawValue) \(version) (sha256 \(digest.prefix(12))...)" }
}

/// What accepting a signed policy set adds to the versions a broker accepted before.
public struct PolicyAdmission: Sendable, Hashable {
    /// True when nothing was accepted before: the set's latest root is pinned now (trust on first use).
    public let pinned: Bool
    /// The versions to record, oldest first (none when the set is the one accepted last).
    public let recorded: [PolicyVersionRecord]
}

extension PolicyTrust {
    /// The root and manifest versions of this set, as the broker records them.
    public var records: [PolicyVersionRecord] {
        roots.map { PolicyVersionRecord(kind: .root, version: $0.version, digest: $0.digest) }
            + [PolicyVersionRecord(kind: .manifest, version: manifest.version, digest: manifest.digest)]
    }

    /// Whether this set may be accepted by a broker that accepted `history` before (rollback protection and pinning),
    /// and what it records if so. Pure: the store reads and writes `history` in one transaction around it.
    ///
    /// - Nothing accepted yet: the latest root and the manifest are recorded (the root is pinned).
    /// - Every recorded root version must be in this set's chain with the same digest: a root that does not chain from
    ///   the pinned one, or a rollback to an older root, is refused. Newer roots of the chain are recorded.
    /// - The manifest version must not be lower than the highest recorded; at the same version the digest must be the
    ///   same. A higher version is recorded.
    ///
    /// Refusals are ``PolicyError/Code/rollback`` errors naming the file (relative to the policy directory) and line.
    public func admission(after history: [PolicyVersionRecord]) -> Result<PolicyAdmission, PolicyError> {
        let acceptedRoots = history.filter { $0.kind == .root }
        let acceptedManifests = history.filter { $0.kind == .manifest }
        guard !history.isEmpty else {
            return .success(PolicyAdmission(pinned: true, recorded: [records[roots.count - 1], records[roots.count]]))
        }
        var problems: [PolicyDiagnostic] = []
        let chain = Dictionary(roots.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        for accepted in acceptedRoots.sorted(by: { $0.version < $1.version }) {
            if let root = chain[accepted.version] {
                if root.digest != accepted.digest {
                    problems.append(
                        PolicyDiagnostic(
                            file: root.path, line: 1,
                            message:
                                "is not the root version \(accepted.version) this broker accepted (sha256 \(root.digest.prefix(12))..., accepted "
                                + "\(accepted.digest.prefix(12))...): a root that does not chain from the pinned root is refused"))
                }
            } else {
                problems.append(
                    PolicyDiagnostic(
                        file: self.root.path, line: 1,
                        message:
                            "root version \(self.root.version) is older than root version \(accepted.version), which this broker accepted: a rollback "
                            + "of the policy root is refused"))
            }
        }
        let highestRoot = acceptedRoots.map(\.version).max() ?? 0
        if let highest = acceptedManifests.max(by: { $0.version < $1.version }) {
            let file = PolicyManifest.file
            if manifest.version < highest.version {
                problems.append(
                    PolicyDiagnostic(
                        file: file, line: manifest.versionLine,
                        message: "manifest version \(manifest.version) is older than version \(highest.version), which this broker accepted: a "
                            + "rollback to an older signed policy set is refused"))
            } else if manifest.version == highest.version && manifest.digest != highest.digest {
                problems.append(
                    PolicyDiagnostic(
                        file: file, line: manifest.versionLine,
                        message: "manifest version \(manifest.version) is not the version \(highest.version) this broker accepted (sha256 "
                            + "\(manifest.digest.prefix(12))..., accepted \(highest.digest.prefix(12))...): a changed set needs a higher version "
                            + "(`sde-broker policy sign-manifest`)"))
            }
        }
        guard problems.isEmpty else { return .failure(.rollback(problems)) }
        var recorded = records.filter { $0.kind == .root && $0.version > highestRoot }
        if manifest.version > acceptedManifests.map(\.version).max() ?? 0 { recorded.append(records[roots.count]) }
        return .success(PolicyAdmission(pinned: acceptedRoots.isEmpty, recorded: recorded))
    }
}
