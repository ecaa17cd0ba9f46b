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

    /// Signs the policy file at `path` in place as `signerID`, whose IG officer key must be in `policyDirectory/users.yaml`.
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
        let key = try readKey(at: keyFile)
        let bytes = try PolicyDirectory.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .unreadable(path, "not UTF-8 text") }
        let signed = try PolicySigning.sign(text: text, file: path, key: key, signer: signer, date: date)
        do {
            try Data(signed.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unreadable(path, "cannot write file: \(error.localizedDescription)")
        }
        return signed
    }
}
