import Crypto
public import SDECommon

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
        let lines = text.split(whereSeparator: \.isNewline).map(\.trimmingWhitespace)
        let keyLines = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard keyLines.count == 1, let bytes = Hex.decode(String(keyLines[0])), bytes.count == 32,
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

/// Signing for IG officers (`policy sign`, `policy sign-manifest`, `policy sign-root`), over text in memory;
/// `SDEPolicyFiles` reads and writes the files.
public enum PolicySigning {
    /// The text of a signed policy file: `text` without any existing top-level `approval:` block, followed by a new one
    /// signed by `signer` with `key` on `date`. Every other byte of `text` is kept.
    ///
    /// Refuses when `signer` is not an active IG officer, `key` is not the one `root` names for them, or the file is not
    /// a block mapping.
    public static func sign(text: String, file: String, key: SigningKey, signer: User, root: PolicyRoot, date: CivilDate) throws(PolicyError)
        -> String
    {
        guard signer.has(.igOfficer), signer.active else {
            throw .signing("'\(signer.id)' is not an active IG officer in the users file; only IG officers sign approvals")
        }
        guard let publicKey = root.keys[signer.id], Hex.encode(publicKey) == key.publicKeyHex else {
            throw .signing("the key does not match the public key of '\(signer.id)' in the policy root (\(root.path))")
        }
        let (root, kept) = try removingTopLevelBlock("approval", from: text, file: file)
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

    /// The users in the bytes of a users file named `file`, by id, validated strictly.
    public static func users(inUsersFile bytes: [UInt8], file path: String) throws(PolicyError) -> [String: User] {
        let log = DiagnosticLog()
        guard let root = PolicyYAML.parse(bytes, file: path, log: log) else { throw .invalidPolicy(log.sorted) }
        let (_, users) = PolicyLoader.readUsers(root, file: path, log: log)
        guard log.isEmpty else { throw .invalidPolicy(log.sorted) }
        return Dictionary(users.map { ($0.value.id, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Parses `text`, checks that it is a block mapping, and removes its top-level `key:` block (the key's line and the
    /// indented or blank lines after it). Returns the parsed text and the text kept, ending in a newline.
    static func removingTopLevelBlock(_ key: String, from text: String, file: String) throws(PolicyError) -> (PolicyNode, String) {
        let log = DiagnosticLog()
        guard let root = PolicyYAML.parse(Array(text.utf8), file: file, log: log) else { throw .invalidPolicy(log.sorted) }
        guard case .mapping(let entries) = root.kind else { throw .signing("\(file): a signed policy file must be a mapping") }
        // Split on LF only, so CRLF lines keep their CR and joining restores the original bytes.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        if let block = entries.first(where: { $0.key == key }) {
            let start = block.keyLine - 1
            guard lines.indices.contains(start), lines[start].hasPrefix("\(key):") else {
                throw .signing("\(file):\(block.keyLine): '\(key)' must be a top-level key at the start of its line")
            }
            var end = start + 1
            func isBlank(_ line: String) -> Bool { line.unicodeScalars.allSatisfy { $0 == " " || $0 == "\r" } }
            while end < lines.count, lines[end].hasPrefix(" ") || lines[end].hasPrefix("-") || isBlank(lines[end]) { end += 1 }
            while end > start + 1, isBlank(lines[end - 1]) { end -= 1 }
            lines.removeSubrange(start..<end)
        }
        var kept = lines.joined(separator: "\n")
        if !kept.isEmpty && !kept.hasSuffix("\n") { kept += "\n" }
        return (root, kept)
    }
}

extension Substring {
    /// The line without leading and trailing whitespace.
    fileprivate var trimmingWhitespace: Substring {
        var line = self
        while line.first?.isWhitespace == true { line.removeFirst() }
        while line.last?.isWhitespace == true { line.removeLast() }
        return line
    }
}
