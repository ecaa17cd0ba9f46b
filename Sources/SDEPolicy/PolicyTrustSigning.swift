public import SDECommon

/// A manifest just signed by one IG officer (`policy sign-manifest`).
public struct ManifestSigning: Sendable {
    /// The manifest's new text.
    public let text: String
    /// Its version: the current one when the covered files are unchanged, else one more.
    public let version: Int
    /// Whether this signature started a new version.
    public let isNewVersion: Bool
    /// The files added, changed or removed since the current manifest, each with what happened (`changed: users.yaml`).
    public let changes: [String]
    /// The IG officers whose signatures it now carries, sorted.
    public let signers: [String]
    /// How many the root requires.
    public let threshold: Int
    /// The validated set it covers (approval states, digest), for the signer to review.
    public let policy: PolicySet
}

/// A root just signed by one IG officer (`policy sign-root`).
public struct RootSigning: Sendable {
    /// The root's new text.
    public let text: String
    /// The root's version.
    public let version: Int
    /// The IG officers of this root whose signatures verify, sorted, and how many it requires.
    public let ownSigners: [String]
    /// See ``ownSigners``.
    public let ownThreshold: Int
    /// The IG officers of the previous root whose signatures verify, and how many that root requires (nil for root 1).
    public let previousSigners: [String]?
    /// See ``previousSigners``.
    public let previousThreshold: Int?

    /// Whether the root now has every signature it needs.
    public var isComplete: Bool { ownSigners.count >= ownThreshold && previousSigners.map { $0.count >= (previousThreshold ?? 0) } ?? true }
}

extension PolicySigning {
    /// Signs the manifest of the policy set `files` (every file of the directory, the current manifest among them) as
    /// `signer`, whose key the latest root must hold.
    ///
    /// The set must be valid in every other respect: the roots verify, every file loads, no profile is under a floor.
    /// When the covered files are exactly those the current manifest lists and its signatures verify, the version stays
    /// and this signature joins the others (a second IG officer runs the same command); otherwise the version goes up
    /// by one and this is its first signature.
    public static func signManifest(
        files: [PolicySourceFile], reference: ReferenceCodes, key: SigningKey, signer: String, date: CivilDate
    ) throws(PolicyError) -> ManifestSigning {
        let others = files.filter { $0.path != PolicyManifest.file }
        let policy = try PolicySet.load(others, reference: reference, checkingManifest: false)
        let root = policy.trust.root
        guard let publicKey = root.keys[signer] else {
            throw .signing("'\(signer)' holds no key in the policy root (\(root.path)); only its IG officers sign the manifest")
        }
        guard Hex.encode(publicKey) == key.publicKeyHex else {
            throw .signing("the key does not match the public key of '\(signer)' in the policy root (\(root.path))")
        }
        let covered = others.filter { PolicyTrustLoader.rootVersion(ofPath: $0.path) == nil }
        let digests = PolicyManifest.digests(of: covered)
        var current: PolicyManifest? = nil
        if let file = files.first(where: { $0.path == PolicyManifest.file }) {
            let log = DiagnosticLog()
            guard let node = PolicyYAML.parse(file.bytes, file: file.path, log: log),
                let manifest = PolicyTrustLoader.readManifest(node, file: file.path, log: log)
            else { throw .invalidPolicy(log.sorted) }
            current = manifest
        }
        let verified =
            current.map { manifest in
                manifest.signatures.filter { signature in
                    root.keys[signature.signer].map { signature.verifies(purpose: PolicyManifest.purpose, content: manifest.content, publicKey: $0) }
                        ?? false
                }
            } ?? []
        let keep = current.map { $0.files == digests && !verified.isEmpty } ?? false
        let version = keep ? (current?.version ?? 1) : (current?.version ?? 0) + 1
        let content = PolicyManifest.content(version: version, files: digests)
        let signature = TrustSignature(
            signer: signer, date: date,
            signature: try key.signature(for: TrustSignature.message(purpose: PolicyManifest.purpose, content: content, signer: signer, date: date)),
            line: 0)
        let signatures = (keep ? verified.filter { $0.signer != signer } : []) + [signature]
        let text = manifestText(version: version, digests: digests, signatures: signatures)
        var changes: [String] = []
        let before = current?.files ?? [:]
        for path in Set(before.keys).union(digests.keys).sorted() {
            switch (before[path], digests[path]) {
            case (nil, _?): changes.append("added: \(path)")
            case (_?, nil): changes.append("removed: \(path)")
            case (let old?, let new?) where old != new: changes.append("changed: \(path)")
            default: break
            }
        }
        return ManifestSigning(
            text: text, version: version, isNewVersion: !keep, changes: changes, signers: Set(signatures.map(\.signer)).sorted(),
            threshold: root.threshold, policy: policy)
    }

    /// Signs the root file `file` (`root/<n>.yaml`, whose text is `text`) as `signer`, who must hold `key` in it or in
    /// `previous`, root `n - 1` (nil for root 1). Signatures that still verify are kept (but this signer's earlier one
    /// with the same key); every other byte before the `signatures:` block is kept.
    public static func signRoot(text: String, file: String, previous: PolicyRoot?, key: SigningKey, signer: String, date: CivilDate)
        throws(PolicyError) -> RootSigning
    {
        guard let version = PolicyTrustLoader.rootVersion(ofPath: file.split(separator: "/").suffix(2).joined(separator: "/")) else {
            throw .signing("\(file): a policy root is named root/<version>.yaml")
        }
        guard (previous?.version ?? 0) == version - 1 else {
            throw .signing("\(file): root version \(version) follows root version \(version - 1)")
        }
        let log = DiagnosticLog()
        guard let node = PolicyYAML.parse(Array(text.utf8), file: file, log: log),
            let root = PolicyTrustLoader.readRoot(node, file: file, expectedVersion: version, log: log)
        else { throw .invalidPolicy(log.sorted) }
        let holds = [root.keys[signer], previous?.keys[signer]].contains { $0.map(Hex.encode) == key.publicKeyHex }
        guard holds else {
            let roots = previous.map { "\(file) or \($0.path)" } ?? file
            throw .signing("the key is not the public key of '\(signer)' in \(roots); only their IG officers sign a root")
        }
        func verifies(_ signature: TrustSignature, _ publicKey: [UInt8]?) -> Bool {
            publicKey.map { signature.verifies(purpose: PolicyRoot.purpose, content: root.content, publicKey: $0) } ?? false
        }
        let kept = root.signatures.filter { signature in
            let valid = verifies(signature, root.keys[signature.signer]) || verifies(signature, previous?.keys[signature.signer])
            let replaced = signature.signer == signer && verifies(signature, Hex.decode(key.publicKeyHex))
            return valid && !replaced
        }
        let signature = TrustSignature(
            signer: signer, date: date,
            signature: try key.signature(for: TrustSignature.message(purpose: PolicyRoot.purpose, content: root.content, signer: signer, date: date)),
            line: 0)
        let signatures = kept + [signature]
        let (_, body) = try removingTopLevelBlock("signatures", from: text, file: file)
        let signed = body + signatureBlock(signatures)
        let check = DiagnosticLog()
        guard let reparsed = PolicyYAML.parse(Array(signed.utf8), file: file, log: check),
            let again = PolicyTrustLoader.readRoot(reparsed, file: file, expectedVersion: version, log: check), again.digest == root.digest
        else { throw .signing("\(file): cannot append a signatures block to this file's layout; write it as a block mapping") }
        let signed1 = PolicyRoot(
            version: root.version, threshold: root.threshold, keys: root.keys, signatures: signatures, digest: root.digest, content: root.content,
            signaturesLine: 0)
        return RootSigning(
            text: signed, version: version, ownSigners: signed1.signers(verifiedBy: root.keys).sorted(), ownThreshold: root.threshold,
            previousSigners: previous.map { signed1.signers(verifiedBy: $0.keys).sorted() }, previousThreshold: previous?.threshold)
    }

    /// The verified chain of roots in `files` (a policy directory's files): what `policy sign` and `policy sign-manifest`
    /// check keys against. With `upTo`, only roots 1 to `upTo` (the chain a new root is signed onto).
    public static func roots(in files: [PolicySourceFile], upTo last: Int? = nil) throws(PolicyError) -> [PolicyRoot] {
        let log = DiagnosticLog()
        var nodes: [String: PolicyNode] = [:]
        var rootFiles: [(path: String, version: Int)] = []
        for file in files {
            guard let version = PolicyTrustLoader.rootVersion(ofPath: file.path), version <= last ?? .max else { continue }
            rootFiles.append((file.path, version))
            if let node = PolicyYAML.parse(file.bytes, file: file.path, log: log) { nodes[file.path] = node }
        }
        let outcome = PolicyTrustLoader.verify(rootFiles: rootFiles, nodes: nodes, covered: [], checkingManifest: false, log: log)
        guard log.isEmpty, let trust = outcome.verified else { throw .invalidPolicy(log.sorted) }
        return trust.roots
    }

    /// A manifest of `version` over `files` signed by each of `signers` on `date`, without checking the files' content:
    /// for tests and tools that build sets in memory. IG officers use ``signManifest(files:reference:key:signer:date:)``.
    public static func manifest(version: Int, covering files: [PolicySourceFile], signers: [(signer: String, key: SigningKey)], date: CivilDate)
        throws(PolicyError) -> String
    {
        let digests = PolicyManifest.digests(of: files)
        let content = PolicyManifest.content(version: version, files: digests)
        var signatures: [TrustSignature] = []
        for (signer, key) in signers {
            let message = TrustSignature.message(purpose: PolicyManifest.purpose, content: content, signer: signer, date: date)
            signatures.append(TrustSignature(signer: signer, date: date, signature: try key.signature(for: message), line: 0))
        }
        return manifestText(version: version, digests: digests, signatures: signatures)
    }

    /// The text of a manifest.
    static func manifestText(version: Int, digests: [String: String], signatures: [TrustSignature]) -> String {
        var text = """
            # The signed manifest of this policy set: its version and the SHA-256 of every other policy file's bytes, signed by
            # the IG officers of the latest policy root (root/<n>.yaml). Written by `sde-broker policy sign-manifest`, which each
            # IG officer runs to add their signature; a listed file changed, or a file added or removed, refuses the set.
            version: \(version)
            files:

            """
        for path in digests.keys.sorted() { text += "  \(yamlKey(path)): \(digests[path]!)\n" }
        return text + signatureBlock(signatures)
    }

    /// A `signatures:` block of `signatures`.
    static func signatureBlock(_ signatures: [TrustSignature]) -> String {
        var block = "signatures:\n"
        for signature in signatures {
            block += "  - signer: \(signature.signer)\n    date: \(signature.date)\n    signature: \(Hex.encode(signature.signature))\n"
        }
        return block
    }

    /// `path` as a YAML mapping key: plain when it is made of safe characters, otherwise double-quoted JSON.
    static func yamlKey(_ path: String) -> String {
        let safe = path.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._/-".unicodeScalars.contains($0))
        }
        if safe, let first = path.unicodeScalars.first, first.properties.isAlphabetic { return path }
        var out: [UInt8] = []
        JSONValue.encodeString(path, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
