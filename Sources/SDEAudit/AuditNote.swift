import SDECommon

/// A key as signed notes name it (C2SP signed-note, Ed25519): a name, the public key, and the 4-byte key ID
/// `SHA-256(name || 0x0A || 0x01 || key)[:4]` that signature lines carry.
///
/// Its text form is the C2SP verifier key, `<name>+<hex key ID>+<base64(0x01 || key)>`, one line that can be
/// given in an environment variable:
///
/// ```swift
/// let verifier = try AuditNoteVerifier(parsing: "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
/// let text = try AuditSignedNote(parsing: note).verifiedText(by: verifier)
/// ```
public struct AuditNoteVerifier: Sendable, Hashable, CustomStringConvertible {
    /// The key name of signature lines.
    public let name: String
    /// The Ed25519 key.
    public let publicKey: AuditPublicKey
    /// The 4-byte key ID of signature lines.
    public let keyID: [UInt8]

    /// Signature type byte of Ed25519 note signatures.
    static let ed25519: UInt8 = 0x01

    /// A verifier for `publicKey` under `name`; throws unless the name is non-empty without spaces or `+`.
    public init(name: String, publicKey: AuditPublicKey) throws(AuditError) {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0 != "+" && $0.value >= 0x21 }) else {
            throw .invalidKey("a note key name is non-empty, without spaces or '+'")
        }
        self.name = name
        self.publicKey = publicKey
        self.keyID = Array(AuditDigest.sha256(of: Array(name.utf8) + [0x0A, Self.ed25519] + publicKey.rawRepresentation).bytes.prefix(4))
    }

    /// Reads a C2SP verifier key; throws unless it is an Ed25519 key whose key ID matches its name and key.
    public init(parsing vkey: some StringProtocol) throws(AuditError) {
        // The name has no '+', the ID is hex; the base64 key may contain '+'.
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].utf8.count == 8, let id = Hex.decode(String(parts[1])), Hex.encode(id) == parts[1],
            let material = Base64.decode(parts[2]), material.count == 33, material[0] == Self.ed25519
        else { throw .invalidKey("not an Ed25519 verifier key (<name>+<8 hex digits>+<base64 of 0x01 and 32 key bytes>)") }
        try self.init(name: String(parts[0]), publicKey: try AuditPublicKey(rawRepresentation: Array(material.dropFirst())))
        guard keyID == id else { throw .invalidKey("the verifier key's ID does not match its name and key") }
    }

    /// The C2SP verifier key text.
    public var description: String { "\(name)+\(Hex.encode(keyID))+\(Base64.encode([Self.ed25519] + publicKey.rawRepresentation))" }
}

/// A C2SP signed note: a text ending in a newline, a blank line, then signature lines
/// `— <key name> base64(key ID || signature)`.
///
/// Parsing is strict (valid UTF-8, no control characters but newlines, canonical base64, at most 16 signatures);
/// ``verifiedText(by:)`` returns the text only when the trusted key signed it. Signatures by other keys (a witness's
/// cosignature, say) are kept and ignored, as the format requires.
///
/// ```swift
/// let note = try AuditSignedNote.signing("hello\n", with: key, name: "example.com/k")
/// note.description   // "hello\n\n— example.com/k <base64>\n"
/// ```
public struct AuditSignedNote: Sendable, Hashable, CustomStringConvertible {
    /// One signature line.
    public struct Signature: Sendable, Hashable {
        /// The key name.
        public let name: String
        /// The 4-byte key ID.
        public let keyID: [UInt8]
        /// The signature bytes after the key ID.
        public let signature: [UInt8]
    }

    /// The signed text, including its final newline.
    public let text: String
    /// The signature lines, in order.
    public let signatures: [Signature]

    /// The most signature lines a note may carry.
    static let maximumSignatures = 16
    /// The most bytes a note may have.
    static let maximumSize = 16_384

    /// Signs `text` (which must end with a newline) with `key` under `name`.
    public static func signing(_ text: String, with key: AuditSigningKey, name: String) throws(AuditError) -> AuditSignedNote {
        try checkText(text)
        let verifier = try AuditNoteVerifier(name: name, publicKey: key.publicKey)
        let signature = try key.signature(for: Array(text.utf8))
        return AuditSignedNote(text: text, signatures: [Signature(name: name, keyID: verifier.keyID, signature: signature)])
    }

    private init(text: String, signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    /// Reads a note; throws ``AuditError/Code/invalidCheckpoint`` unless it has the signed-note form.
    public init(parsing note: some StringProtocol) throws(AuditError) {
        let bytes = Array(note.utf8)
        guard bytes.count <= Self.maximumSize else { throw .invalidCheckpoint("a note is at most \(Self.maximumSize) bytes") }
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x0A }) else { throw .invalidCheckpoint("a note has no control characters but newlines") }
        // The text ends at the last blank line: the signature lines contain none.
        var split: Int?
        for i in stride(from: bytes.count - 2, through: 0, by: -1) where bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
            split = i
            break
        }
        guard let split, bytes.last == 0x0A else { throw .invalidCheckpoint("a note is a text, a blank line and signature lines") }
        let text = String(decoding: bytes[...split], as: UTF8.self)
        try Self.checkText(text)
        var signatures: [Signature] = []
        for line in bytes[(split + 2)...].dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            guard signatures.count < Self.maximumSignatures else {
                throw .invalidCheckpoint("a note has at most \(Self.maximumSignatures) signatures")
            }
            signatures.append(try Self.signature(String(decoding: line, as: UTF8.self)))
        }
        guard !signatures.isEmpty else { throw .invalidCheckpoint("a note has at least one signature line") }
        self.init(text: text, signatures: signatures)
    }

    /// The note as text: the text, a blank line and the signature lines.
    public var description: String {
        text + "\n" + signatures.map { "— \($0.name) \(Base64.encode($0.keyID + $0.signature))\n" }.joined()
    }

    /// The text, when `verifier`'s key signed it; throws ``AuditError/Code/invalidCheckpoint`` when no signature is by
    /// that key (name and key ID) or one of them does not verify.
    public func verifiedText(by verifier: AuditNoteVerifier) throws(AuditError) -> String {
        let mine = signatures.filter { $0.name == verifier.name && $0.keyID == verifier.keyID }
        guard !mine.isEmpty else { throw .invalidCheckpoint("the note is not signed by \(verifier.name) (\(Hex.encode(verifier.keyID)))") }
        let message = Array(text.utf8)
        for signature in mine where !verifier.publicKey.isValidSignature(signature.signature, for: message) {
            throw .invalidCheckpoint("the signature by \(verifier.name) does not verify: the note was altered or forged")
        }
        return text
    }

    private static func checkText(_ text: String) throws(AuditError) {
        guard text.hasSuffix("\n") else { throw .invalidCheckpoint("a note's text ends with a newline") }
        guard text.utf8.allSatisfy({ $0 >= 0x20 || $0 == 0x0A }) else { throw .invalidCheckpoint("a note has no control characters but newlines") }
    }

    private static func signature(_ line: String) throws(AuditError) -> Signature {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "—", !parts[1].isEmpty, !parts[1].contains("+"),
            let bytes = Base64.decode(parts[2]), bytes.count > 4
        else { throw .invalidCheckpoint("a signature line is '— <key name> <base64 of key ID and signature>'") }
        return Signature(name: String(parts[1]), keyID: Array(bytes.prefix(4)), signature: Array(bytes.dropFirst(4)))
    }
}

extension AuditPublicKey {
    /// The name this key signs notes under, which is also the origin of its checkpoints: `sde-broker/audit/<keyID>`.
    public var noteName: String { "sde-broker/audit/\(keyID)" }

    /// This key as a signed-note verifier under ``noteName``.
    public var noteVerifier: AuditNoteVerifier {
        // The name is made of printable ASCII without spaces or '+', which the initialiser accepts.
        try! AuditNoteVerifier(name: noteName, publicKey: self)
    }

    /// Reads the broker's key from its C2SP verifier key (the name must be ``noteName``).
    public init(verifierKey text: some StringProtocol) throws(AuditError) {
        let verifier = try AuditNoteVerifier(parsing: text)
        guard verifier.name == verifier.publicKey.noteName else {
            throw .invalidKey("the verifier key is named \(verifier.name), not \(verifier.publicKey.noteName): it is not an sde-broker audit key")
        }
        self = verifier.publicKey
    }

    /// Reads a public key given either as PEM (`-----BEGIN PUBLIC KEY-----`) or as a verifier key line.
    public init(pemOrVerifierKey text: String) throws(AuditError) {
        if text.contains("-----BEGIN") {
            try self.init(pem: text)
        } else {
            let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            try self.init(verifierKey: line.filter { !$0.isWhitespace })
        }
    }
}
