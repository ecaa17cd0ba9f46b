import Crypto
public import SDECommon

/// One IG officer's signature on a policy root or on the manifest: an entry of the file's `signatures:` list.
///
/// The signed message is the canonical JSON of
/// `{"content": C, "purpose": P, "signature": {"date": D, "signer": S}}`, where `C` is the whole file as JSON without
/// its `signatures` key and `P` names the kind of file (``PolicyRoot/purpose``, ``PolicyManifest/purpose``).
public struct TrustSignature: Sendable, Hashable {
    /// The IG officer's id, a key id of the root.
    public let signer: String
    /// The day it was signed.
    public let date: CivilDate
    /// The 64-byte Ed25519 signature.
    public let signature: [UInt8]
    /// The line of the entry, for diagnostics.
    let line: Int

    /// The bytes an IG officer signs.
    public static func message(purpose: String, content: JSONValue, signer: String, date: CivilDate) -> [UInt8] {
        let signature: JSONValue = .object(["signer": .string(signer), "date": .string(date.description)])
        return JSONValue.object(["content": content, "purpose": .string(purpose), "signature": signature]).canonicalBytes
    }

    /// Whether this signature verifies over `content` under the raw Ed25519 `publicKey`.
    func verifies(purpose: String, content: JSONValue, publicKey: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: Self.message(purpose: purpose, content: content, signer: signer, date: date))
    }
}

/// The policy root (`root/<version>.yaml`): the IG officers' public keys and how many of them must sign a change.
///
/// The root is the only source of the keys that verify approvals, manifests and later roots (The Update Framework's
/// root role). Root 1 is signed by a threshold of its own keys and trusted on first use: the broker pins the first
/// root it accepts in its database. Root `n + 1` counts only when signed by a threshold of root `n`'s keys **and** a
/// threshold of its own, so nobody who lacks the previous IG officers' keys can replace them.
///
/// ```yaml
/// version: 2
/// threshold: 2
/// keys:
///   - {id: ig-helen-moore, public_key: 5be0...}
///   - {id: ig-samuel-okoro, public_key: 91c2...}
/// signatures:
///   - {signer: ig-helen-moore, date: 2026-11-29, signature: 3d70...}
/// ```
public struct PolicyRoot: Sendable, Hashable {
    /// Domain separation for root signatures.
    public static let purpose = "sde-broker policy root v1"
    /// The directory of root files, one per version.
    public static let directory = "root"

    /// The version, also the file's name (`root/<version>.yaml`).
    public let version: Int
    /// How many distinct keys of this root must sign the manifest and the next root.
    public let threshold: Int
    /// The IG officers' raw Ed25519 public keys, by their user id.
    public let keys: [String: [UInt8]]
    /// The signatures on this root.
    public let signatures: [TrustSignature]
    /// Lower-case hex SHA-256 of the canonical JSON of the signed content (the file without `signatures`): the root's
    /// identity, which the broker pins. Comments, layout and added signatures do not change it.
    public let digest: String
    /// What the signatures cover.
    let content: JSONValue
    /// The line of `signatures` (or of the mapping, when absent), for diagnostics.
    let signaturesLine: Int

    /// The file of root version `version`, relative to the policy directory.
    public static func path(version: Int) -> String { "\(directory)/\(version).yaml" }

    /// The file this root was read from.
    public var path: String { Self.path(version: version) }

    /// The distinct signers whose signature verifies under `keys` (a key set of this root or of the one before).
    func signers(verifiedBy keys: [String: [UInt8]]) -> Set<String> {
        let verified = signatures.filter { signature in
            keys[signature.signer].map { signature.verifies(purpose: Self.purpose, content: content, publicKey: $0) } ?? false
        }
        return Set(verified.map(\.signer))
    }
}

/// The signed manifest (`manifest.yaml`): a version number that never goes down and the SHA-256 of every other policy
/// file's bytes, signed by a threshold of the root's keys.
///
/// Every file that can widen access or weaken protection (users and roles, memberships, training dates, profiles,
/// datasets, queries, projects, releases) is covered: a file changed, added or removed since the IG team signed the
/// manifest fails the load, naming the file. `sde-broker policy sign-manifest` writes it.
public struct PolicyManifest: Sendable, Hashable {
    /// Domain separation for manifest signatures.
    public static let purpose = "sde-broker policy manifest v1"
    /// The manifest's file name at the top of a policy directory.
    public static let file = "manifest.yaml"

    /// The version: higher than any the broker accepted before, or equal to it with the same digest.
    public let version: Int
    /// Lower-case hex SHA-256 of each covered file's bytes, by path relative to the policy directory.
    public let files: [String: String]
    /// The signatures on this manifest.
    public let signatures: [TrustSignature]
    /// Lower-case hex SHA-256 of the canonical JSON of the signed content (`version` and `files`): the set's identity,
    /// which the broker records with the version.
    public let digest: String
    /// What the signatures cover.
    let content: JSONValue
    /// Lines for diagnostics: of `version`, of `signatures` (or the mapping), and of each listed file.
    let versionLine: Int
    let signaturesLine: Int
    let fileLines: [String: Int]

    /// The signed content of a manifest of `version` over `files`.
    static func content(version: Int, files: [String: String]) -> JSONValue {
        .object(["version": .int(Int64(version)), "files": .object(files.mapValues { .string($0) })])
    }

    /// An unsigned manifest of `version` over `covered` (what `policy sign-manifest` is about to sign).
    static func unsigned(version: Int, covered: [PolicySourceFile]) -> PolicyManifest {
        let files = digests(of: covered)
        let content = content(version: version, files: files)
        return PolicyManifest(
            version: version, files: files, signatures: [], digest: Hex.sha256(content.canonicalBytes), content: content, versionLine: 1,
            signaturesLine: 1, fileLines: [:])
    }

    /// The SHA-256 of each file's bytes, by path.
    static func digests(of files: [PolicySourceFile]) -> [String: String] {
        Dictionary(files.map { ($0.path, Hex.sha256($0.bytes)) }, uniquingKeysWith: { a, _ in a })
    }
}

/// How a loaded policy set is signed: the verified chain of roots and the manifest, whose signatures meet the latest
/// root's threshold and whose digests match every covered file.
public struct PolicyTrust: Sendable, Hashable {
    /// Roots 1 to n, each verified against the one before.
    public let roots: [PolicyRoot]
    /// The manifest.
    public let manifest: PolicyManifest
    /// The IG officers whose manifest signatures verify, sorted.
    public let manifestSigners: [String]

    /// The root in force: the latest of the chain.
    public var root: PolicyRoot { roots[roots.count - 1] }

    /// One line for `policy check` and logs.
    public var summary: String {
        let keys = root.keys.keys.sorted().joined(separator: ", ")
        return "root version \(root.version) (\(root.threshold) of \(root.keys.count) IG keys: \(keys)), manifest version \(manifest.version) "
            + "signed by \(manifestSigners.joined(separator: ", ")) over \(manifest.files.count) files"
    }
}

/// Reading and verifying roots and manifests.
enum PolicyTrustLoader {
    /// The version of a root file path (`root/<n>.yaml`, `n` a positive decimal without leading zeros), or nil.
    static func rootVersion(ofPath path: String) -> Int? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == PolicyRoot.directory, parts[1].hasSuffix(".yaml") else { return nil }
        let stem = parts[1].dropLast(".yaml".count)
        guard !stem.isEmpty, stem.count <= 9, stem.allSatisfy({ $0.isASCII && $0.isNumber }), !stem.hasPrefix("0") else { return nil }
        return Int(stem)
    }

    /// Reads one root file (not yet verified). Nil, after logging, when it is malformed.
    static func readRoot(_ root: PolicyNode, file: String, expectedVersion: Int, log: DiagnosticLog) -> PolicyRoot? {
        guard let fields = FieldReader(root, file: file, what: "a policy root", allowed: ["version", "threshold", "keys", "signatures"], log: log)
        else { return nil }
        let version = fields.int("version", in: 1...1_000_000_000)
        if let version, version != expectedVersion {
            fields.error(fields.line(of: "version"), "root version \(version) must match the file name (\(expectedVersion).yaml)")
        }
        var keys: [String: [UInt8]] = [:]
        var ok = true
        for item in fields.list("keys", nonEmpty: true) ?? [] {
            guard let key = FieldReader(item, file: file, what: "a root key", allowed: ["id", "public_key"], log: log),
                let id = key.identifier("id"), let node = key.node("public_key"), let text = key.text(node, "public_key")
            else {
                ok = false
                continue
            }
            guard let bytes = Hex.decode(text), bytes.count == 32, ApprovalSignature.isValidPublicKey(bytes), Hex.encode(bytes) == text else {
                key.error(node.line, "'public_key' must be a 32-byte Ed25519 public key in lower-case hex (64 characters)")
                ok = false
                continue
            }
            if keys[id] != nil {
                key.error(key.line(of: "id"), "duplicate key id '\(id)'")
                ok = false
            } else if let other = keys.first(where: { $0.value == bytes })?.key {
                key.error(node.line, "'\(id)' has the same public key as '\(other)': each IG officer needs a key of their own")
                ok = false
            }
            keys[id] = bytes
        }
        let threshold = fields.int("threshold", in: 1...1000)
        if let threshold, !keys.isEmpty, threshold > keys.count {
            fields.error(fields.line(of: "threshold"), "'threshold' \(threshold) is more than the \(keys.count) keys this root names")
            ok = false
        }
        let signatures = readSignatures(fields)
        guard ok, let version, version == expectedVersion, let threshold, let signatures else { return nil }
        let content = signedContent(root)
        return PolicyRoot(
            version: version, threshold: threshold, keys: keys, signatures: signatures, digest: Hex.sha256(content.canonicalBytes),
            content: content, signaturesLine: fields.line(of: "signatures"))
    }

    /// Verifies the chain of `roots` (versions 1 to n, in order): each signed by a threshold of its own keys and, after
    /// the first, of the previous root's keys; every signature must verify under a key its signer holds in one of them.
    static func verifyChain(_ roots: [PolicyRoot], log: DiagnosticLog) -> Bool {
        var ok = true
        for (index, root) in roots.enumerated() {
            let previous = index > 0 ? roots[index - 1] : nil
            for signature in root.signatures {
                let keys = [root.keys[signature.signer], previous?.keys[signature.signer]].compactMap { $0 }
                if keys.isEmpty {
                    let holders = previous.map { "\(root.path) or \($0.path)" } ?? root.path
                    log.error(root.path, signature.line, "'\(signature.signer)' holds no key in \(holders); only their IG officers sign a root")
                    ok = false
                } else if !keys.contains(where: { signature.verifies(purpose: PolicyRoot.purpose, content: root.content, publicKey: $0) }) {
                    log.error(
                        root.path, signature.line,
                        "the signature of '\(signature.signer)' does not verify: the root changed after it was signed, or another key signed it")
                    ok = false
                }
            }
            let own = root.signers(verifiedBy: root.keys)
            if own.count < root.threshold {
                log.error(root.path, root.signaturesLine, shortfall(of: root.path, own, root.threshold, root.keys, requiredBy: root.path))
                ok = false
            }
            if let previous {
                let old = root.signers(verifiedBy: previous.keys)
                if old.count < previous.threshold {
                    let message = shortfall(of: root.path, old, previous.threshold, previous.keys, requiredBy: previous.path)
                    log.error(root.path, root.signaturesLine, message + "; a new root needs the previous root's IG officers as well as its own")
                    ok = false
                }
            }
        }
        return ok
    }

    /// Reads the manifest (not yet verified). Nil, after logging, when it is malformed.
    static func readManifest(_ node: PolicyNode, file: String, log: DiagnosticLog) -> PolicyManifest? {
        guard let fields = FieldReader(node, file: file, what: "the manifest", allowed: ["version", "files", "signatures"], log: log) else {
            return nil
        }
        let version = fields.int("version", in: 1...1_000_000_000)
        var files: [String: String] = [:]
        var lines: [String: Int] = [:]
        var ok = true
        if let listing = fields.node("files") {
            if case .mapping(let entries) = listing.kind {
                for entry in entries {
                    guard case .scalar(let digest, _) = entry.value.kind, digest.utf8.count == 64, Hex.decode(digest).map(Hex.encode) == digest
                    else {
                        fields.error(entry.keyLine, "'\(entry.key)' must map to the SHA-256 of the file's bytes in lower-case hex (64 characters)")
                        ok = false
                        continue
                    }
                    files[entry.key] = digest
                    lines[entry.key] = entry.keyLine
                }
            } else {
                fields.error(listing.line, "'files' must be a mapping of file paths to SHA-256 digests, found \(listing.shapeName)")
                ok = false
            }
        }
        let signatures = readSignatures(fields)
        guard ok, let version, let signatures, fields.has("files") else { return nil }
        let content = PolicyManifest.content(version: version, files: files)
        return PolicyManifest(
            version: version, files: files, signatures: signatures, digest: Hex.sha256(content.canonicalBytes), content: content,
            versionLine: fields.line(of: "version"), signaturesLine: fields.line(of: "signatures"), fileLines: lines)
    }

    /// Checks the manifest's signatures against `root` (nil when the roots are not valid) and its digests against the
    /// covered files. Returns the signers whose signatures verify, or nil when anything is wrong.
    static func verifyManifest(_ manifest: PolicyManifest, root: PolicyRoot?, covered: [PolicySourceFile], log: DiagnosticLog) -> [String]? {
        let file = PolicyManifest.file
        var ok = true
        var signers: Set<String> = []
        if let root {
            for signature in manifest.signatures {
                guard let key = root.keys[signature.signer] else {
                    log.error(file, signature.line, "'\(signature.signer)' holds no key in \(root.path); only its IG officers sign the manifest")
                    ok = false
                    continue
                }
                if signature.verifies(purpose: PolicyManifest.purpose, content: manifest.content, publicKey: key) {
                    signers.insert(signature.signer)
                } else {
                    log.error(
                        file, signature.line,
                        "the signature of '\(signature.signer)' does not verify: the manifest changed after it was signed, or another key signed it")
                    ok = false
                }
            }
            if signers.count < root.threshold {
                let message = shortfall(of: file, signers, root.threshold, root.keys, requiredBy: root.path)
                log.error(file, manifest.signaturesLine, message + "; each IG officer signs it with `sde-broker policy sign-manifest`")
                ok = false
            }
        } else {
            log.error(file, 1, "cannot be verified: the policy root is not valid")
            ok = false
        }
        let present = Set(covered.map(\.path))
        for source in covered.sorted(by: { $0.path < $1.path }) {
            guard let expected = manifest.files[source.path] else {
                log.error(
                    source.path, 1,
                    "not in the signed manifest (\(file) version \(manifest.version)): a new file takes effect only once the IG team signs a new "
                        + "manifest (`sde-broker policy sign-manifest`)")
                ok = false
                continue
            }
            let actual = Hex.sha256(source.bytes)
            if actual != expected {
                log.error(
                    source.path, 1,
                    "changed since the IG team signed manifest version \(manifest.version) (SHA-256 \(actual.prefix(12))..., signed "
                        + "\(expected.prefix(12))...): the change takes effect only once the IG team signs a new manifest (`sde-broker policy sign-manifest`)"
                )
                ok = false
            }
        }
        for path in manifest.files.keys.sorted() where !present.contains(path) {
            log.error(
                file, manifest.fileLines[path] ?? manifest.versionLine,
                "lists '\(path)', which is not in the policy set: a removed file needs a new signed manifest (`sde-broker policy sign-manifest`)")
            ok = false
        }
        return ok ? signers.sorted() : nil
    }

    /// `<file> is signed by 1 of the 2 keys <requiredBy> requires (a); ...`.
    private static func shortfall(of file: String, _ signers: Set<String>, _ threshold: Int, _ keys: [String: [UInt8]], requiredBy: String) -> String
    {
        let who = signers.isEmpty ? "" : " (\(signers.sorted().joined(separator: ", ")))"
        let holders = keys.keys.sorted().joined(separator: ", ")
        return "\(file) is signed by \(signers.count) of the \(threshold) IG officers \(requiredBy) requires\(who); its keys are \(holders)"
    }

    /// Reads an optional `signatures:` list (absent: none yet). Nil, after logging, when an entry is malformed.
    static func readSignatures(_ fields: FieldReader) -> [TrustSignature]? {
        var signatures: [TrustSignature] = []
        var ok = true
        for item in fields.list("signatures", required: false) ?? [] {
            guard let entry = FieldReader(item, file: fields.file, what: "a signature", allowed: ["signer", "date", "signature"], log: fields.log)
            else {
                ok = false
                continue
            }
            let signer = entry.identifier("signer")
            let date = entry.date("date")
            var bytes: [UInt8]? = nil
            if let node = entry.node("signature"), let text = entry.text(node, "signature") {
                if let decoded = Hex.decode(text), decoded.count == 64 {
                    bytes = decoded
                } else {
                    entry.error(node.line, "'signature' must be a 64-byte Ed25519 signature in hex (128 characters)")
                }
            }
            guard let signer, let date, let bytes else {
                ok = false
                continue
            }
            signatures.append(TrustSignature(signer: signer, date: date, signature: bytes, line: entry.line))
        }
        return ok ? signatures : nil
    }

    /// The file's JSON content without its `signatures` key: what trust signatures sign.
    static func signedContent(_ root: PolicyNode) -> JSONValue {
        guard case .object(var members) = root.json else { return root.json }
        members["signatures"] = nil
        return .object(members)
    }
}

extension PolicyTrustLoader {
    /// What verifying a set's roots and manifest found: the trust when everything verifies, and the latest root's keys
    /// for approvals either way (an invalid set serves nothing, but its approvals are still reported).
    struct Outcome {
        var verified: PolicyTrust?
        var keys: [String: [UInt8]] = [:]
        var rootPath = PolicyRoot.path(version: 1)
    }

    /// Reads and verifies the roots (`rootFiles`, each parsed into `nodes` unless it failed to parse) and the manifest
    /// against the `covered` files, logging every problem.
    ///
    /// With `checkingManifest` false (only for `policy sign-manifest`, which is about to sign one), the manifest is not
    /// read and the outcome's trust holds an unsigned manifest of the covered files.
    static func verify(
        rootFiles: [(path: String, version: Int)], nodes: [String: PolicyNode], covered: [PolicySourceFile], checkingManifest: Bool = true,
        log: DiagnosticLog
    ) -> Outcome {
        var outcome = Outcome()
        let versions = rootFiles.map(\.version).sorted()
        var chainOK = true
        if versions.isEmpty {
            log.error(
                PolicyRoot.path(version: 1), 1,
                "missing the policy root: the IG officers' keys and how many must sign a change (see Policies/README.md, \"Signed policy set\")")
            chainOK = false
        } else if let latest = versions.last {
            for version in 1...latest where !versions.contains(version) {
                log.error(PolicyRoot.path(version: version), 1, "missing root version \(version): roots run 1, 2, ... \(latest) without a gap")
                chainOK = false
            }
        }
        var roots: [PolicyRoot] = []
        for version in versions {
            let path = PolicyRoot.path(version: version)
            guard let node = nodes[path], let root = readRoot(node, file: path, expectedVersion: version, log: log) else {
                chainOK = false
                continue
            }
            roots.append(root)
        }
        if let latest = roots.last {
            outcome.keys = latest.keys
            outcome.rootPath = latest.path
        }
        if chainOK && !verifyChain(roots, log: log) { chainOK = false }
        guard checkingManifest else {
            if chainOK { outcome.verified = PolicyTrust(roots: roots, manifest: .unsigned(version: 1, covered: covered), manifestSigners: []) }
            return outcome
        }
        let manifestNode = nodes[PolicyManifest.file]
        if manifestNode == nil && !log.items.contains(where: { $0.file == PolicyManifest.file }) {
            log.error(
                PolicyManifest.file, 1,
                "missing the signed manifest: the set is unsigned, so nothing is served; IG officers sign it with `sde-broker policy sign-manifest`")
        }
        guard let manifestNode, let manifest = readManifest(manifestNode, file: PolicyManifest.file, log: log) else { return outcome }
        let signers = verifyManifest(manifest, root: chainOK ? roots.last : nil, covered: covered, log: log)
        if chainOK, let signers { outcome.verified = PolicyTrust(roots: roots, manifest: manifest, manifestSigners: signers) }
        return outcome
    }
}
