import Crypto
import Foundation
public import SDECommon

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IG officer's Ed25519 private key.
///
/// The key file is text: comment lines starting with `#` and one line of 64 hex characters (the 32-byte raw key).
/// Key files are created with mode 0600 and are never committed.
public struct SigningKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    /// A fresh random key.
    public init() { key = Curve25519.Signing.PrivateKey() }

    /// Parses the text of a key file.
    public init(keyFileText text: String) throws(PolicyError) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let keyLines = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard keyLines.count == 1, let bytes = Hex.decode(keyLines[0]), bytes.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        else { throw .keyFile("key file", "expected one line of 64 hex characters (a raw Ed25519 private key)") }
        self.key = key
    }

    /// The key file text.
    public var keyFileText: String {
        "# sde-broker Ed25519 private key for signing policy approvals. Keep it secret; never commit it.\n"
            + Hex.encode(key.rawRepresentation) + "\n"
    }

    /// The raw 32-byte public key in hex, as it goes in `users.yaml` (`public_key:`).
    public var publicKeyHex: String { Hex.encode(key.publicKey.rawRepresentation) }

    /// Signs `message`.
    func signature(for message: [UInt8]) throws(PolicyError) -> [UInt8] {
        do {
            return Array(try key.signature(for: message))
        } catch {
            throw .signing("cannot sign: \(error)")
        }
    }
}

/// Key generation and approval signing for IG officers (`policy keygen`, `policy sign`).
public enum PolicySigning {
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

    /// The text of a signed policy file: `text` without any existing top-level `approval:` block, followed by a new one
    /// signed by `signer` with `key` on `date`. Every other byte of `text` is kept.
    ///
    /// Refuses when `signer` is not an active IG officer, `key` is not theirs, or the file is not a block mapping.
    public static func sign(text: String, file: String, key: SigningKey, signer: User, date: CivilDate) throws(PolicyError) -> String {
        guard signer.has(.igOfficer), signer.active else {
            throw .signing("'\(signer.id)' is not an active IG officer in the users file; only IG officers sign approvals")
        }
        guard let publicKey = signer.publicKey, Hex.encode(publicKey) == key.publicKeyHex else {
            throw .signing("the key does not match the public key of '\(signer.id)' in the users file")
        }
        let log = DiagnosticLog()
        guard let root = PolicyYAML.parse(Array(text.utf8), file: file, log: log) else { throw .invalidPolicy(log.sorted) }
        guard case .mapping(let entries) = root.kind else { throw .signing("\(file): a signed policy file must be a mapping") }
        // Split on LF only, so CRLF lines keep their CR and joining restores the original bytes.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        if let approval = entries.first(where: { $0.key == "approval" }) {
            let start = approval.keyLine - 1
            guard lines.indices.contains(start), lines[start].hasPrefix("approval:") else {
                throw .signing("\(file):\(approval.keyLine): 'approval' must be a top-level key at the start of its line")
            }
            var end = start + 1
            func isBlank(_ line: String) -> Bool { line.unicodeScalars.allSatisfy { $0 == " " || $0 == "\r" } }
            while end < lines.count, lines[end].hasPrefix(" ") || isBlank(lines[end]) { end += 1 }
            while end > start + 1, isBlank(lines[end - 1]) { end -= 1 }
            lines.removeSubrange(start..<end)
        }
        var kept = lines.joined(separator: "\n")
        if !kept.isEmpty && !kept.hasSuffix("\n") { kept += "\n" }
        let content = PolicyLoader.signedContent(root)
        let signature = try key.signature(for: ApprovalSignature.message(content: content, signer: signer.id, date: date))
        let signed = kept + "approval:\n  signer: \(signer.id)\n  date: \(date)\n  signature: \(Hex.encode(signature))\n"
        let check = DiagnosticLog()
        guard let reparsed = PolicyYAML.parse(Array(signed.utf8), file: file, log: check),
            PolicyLoader.signedContent(reparsed) == content,
            ApprovalSignature.verify(signature, content: content, signer: signer.id, date: date, publicKey: publicKey)
        else { throw .signing("\(file): cannot append an approval block to this file's layout; write it as a block mapping") }
        return signed
    }

    /// Signs the policy file at `path` in place as `signerID`, whose IG officer key must be in `policyDirectory/users.yaml`.
    ///
    /// - Returns: the text written.
    @discardableResult
    public static func signFile(at path: String, keyFile: String, signer signerID: String, policyDirectory: String, date: CivilDate)
        throws(PolicyError) -> String
    {
        let users = try readUsers(policyDirectory + "/" + PolicySet.usersFile)
        guard let signer = users[signerID] else {
            throw .signing("'\(signerID)' is not a user in \(policyDirectory)/\(PolicySet.usersFile)")
        }
        let key = try readKey(at: keyFile)
        let bytes = try PolicyDirectory.read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .unreadable(path, "not UTF-8 text") }
        let signed = try sign(text: text, file: path, key: key, signer: signer, date: date)
        do {
            try Data(signed.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unreadable(path, "cannot write file: \(error.localizedDescription)")
        }
        return signed
    }

    /// The users of a users file, validated strictly.
    static func readUsers(_ path: String) throws(PolicyError) -> [String: User] {
        let log = DiagnosticLog()
        guard let root = PolicyYAML.parse(try PolicyDirectory.read(path), file: path, log: log) else { throw .invalidPolicy(log.sorted) }
        let (_, users) = PolicyLoader.readUsers(root, file: path, log: log)
        guard log.isEmpty else { throw .invalidPolicy(log.sorted) }
        return Dictionary(users.map { ($0.value.id, $0.value) }, uniquingKeysWith: { a, _ in a })
    }
}
