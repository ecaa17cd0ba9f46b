import Foundation
public import SDECommon
public import SDEPolicy

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Key files and in-place signing for IG officers (`policy keygen`, `policy sign`): the file I/O around the pure
/// ``PolicySigning/sign(text:file:key:signer:date:)``.
///
/// ```swift
/// let key = try PolicyFileSigning.generateKey(writingTo: "ig.key")
/// try PolicyFileSigning.signFile(at: "Policies/projects/p1.yaml", keyFile: "ig.key", signer: "ig", policyDirectory: "Policies", date: today)
/// ```
public enum PolicyFileSigning {
    /// Generates a key, writes it to a new file `path` with mode 0600 (refusing to overwrite), and returns it.
    public static func generateKey(writingTo path: String) throws(PolicyError) -> SigningKey {
        let key = SigningKey()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "already exists; refusing to overwrite a key" : String(cString: strerror(errno))
            throw .keyFile(path, reason)
        }
        defer { close(fd) }
        let bytes = Array(key.keyFileText.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw .keyFile(path, "could not write the whole key") }
        return key
    }

    /// Reads a key file.
    public static func readKey(at path: String) throws(PolicyError) -> SigningKey {
        let bytes = try PolicyDirectory.read(path, limit: 4096)
        do {
            return try SigningKey(keyFileText: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .keyFile(path, error.message.replacingOccurrences(of: "key file: ", with: ""))
        }
    }

    /// Signs the policy file at `path` in place as `signerID`, an IG officer in `policyDirectory/users.yaml` whose key
    /// the latest verified root of `policyDirectory` holds.
    ///
    /// - Returns: the text written.
    @discardableResult
    public static func signFile(at path: String, keyFile: String, signer signerID: String, policyDirectory: String, date: CivilDate)
        throws(PolicyError) -> String
    {
        let usersFile = policyDirectory + "/" + PolicySet.usersFile
        let users = try PolicySigning.users(inUsersFile: try PolicyDirectory.read(usersFile), file: usersFile)
        guard let signer = users[signerID] else {
            throw .signing("'\(signerID)' is not a user in \(policyDirectory)/\(PolicySet.usersFile)")
        }
        let roots = try located(policyDirectory) { () throws(PolicyError) in
            try PolicySigning.roots(in: try PolicyDirectory.files(at: policyDirectory))
        }
        let key = try readKey(at: keyFile)
        let text = try readText(path)
        let signed = try PolicySigning.sign(text: text, file: path, key: key, signer: signer, root: roots[roots.count - 1], date: date)
        try writeFile(signed, to: path)
        return signed
    }

    /// Signs the manifest of the policy set in `policyDirectory` as `signer` (`policy sign-manifest`): a new version when
    /// the covered files changed since the current manifest, else one more signature on it. The set must be valid.
    @discardableResult
    public static func signManifest(policyDirectory: String, keyFile: String, signer: String, reference: ReferenceCodes, date: CivilDate)
        throws(PolicyError) -> ManifestSigning
    {
        let key = try readKey(at: keyFile)
        let files = try PolicyDirectory.files(at: policyDirectory)
        let signing = try located(policyDirectory) { () throws(PolicyError) in
            try PolicySigning.signManifest(files: files, reference: reference, key: key, signer: signer, date: date)
        }
        try writeFile(signing.text, to: policyDirectory + "/" + PolicyManifest.file)
        return signing
    }

    /// Signs the root file `root/<n>.yaml` at `path` in place as `signer` (`policy sign-root`), who holds `keyFile`'s key
    /// in it or in root `n - 1` of `policyDirectory` (whose roots 1 to `n - 1` must verify).
    @discardableResult
    public static func signRoot(at path: String, keyFile: String, signer: String, policyDirectory: String, date: CivilDate)
        throws(PolicyError) -> RootSigning
    {
        let key = try readKey(at: keyFile)
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let version = Int(name.dropLast(".yaml".count)), name.hasSuffix(".yaml"), version >= 1 else {
            throw .signing("\(path): a policy root is named root/<version>.yaml")
        }
        let previous = try located(policyDirectory) { () throws(PolicyError) in
            version == 1 ? nil : try PolicySigning.roots(in: try PolicyDirectory.files(at: policyDirectory), upTo: version - 1).last
        }
        let signing = try PolicySigning.signRoot(
            text: try readText(path), file: PolicyRoot.path(version: version), previous: previous, key: key, signer: signer, date: date)
        try writeFile(signing.text, to: path)
        return signing
    }

    /// The text of the file at `path`.
    private static func readText(_ path: String) throws(PolicyError) -> String {
        let bytes = try PolicyDirectory.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .unreadable(path, "not UTF-8 text") }
        return text
    }

    /// Writes `text` to `path` atomically.
    private static func writeFile(_ text: String, to path: String) throws(PolicyError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unreadable(path, "cannot write file: \(error.localizedDescription)")
        }
    }

    /// Runs `body`; its diagnostics name files inside `directory`.
    private static func located<Result>(_ directory: String, _ body: () throws(PolicyError) -> Result) throws(PolicyError) -> Result {
        do {
            return try body()
        } catch  where error.code == .invalidPolicy {
            throw error.locating(in: directory)
        }
    }
}
