import Crypto
import SDECommon

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The broker's Ed25519 key for signing checkpoints.
///
/// The key file is standard PEM (PKCS #8, `-----BEGIN PRIVATE KEY-----`), the same as
/// `openssl genpkey -algorithm ed25519` writes, so keys can be made and inspected with OpenSSL too.
/// The caller stores it (mode 0600, outside the database and the audit directory).
///
/// ```swift
/// let key = AuditSigningKey()
/// let keyFile = key.pem                       // write to disk
/// let publicFile = key.publicKey.pem          // give to auditors
/// let again = try AuditSigningKey(pem: keyFile)
/// ```
public struct AuditSigningKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init() { key = Curve25519.Signing.PrivateKey() }

    /// Reads a PEM `PRIVATE KEY` holding an Ed25519 key.
    public init(pem: String) throws(AuditError) {
        let der = try PEM.decode(pem, label: "PRIVATE KEY")
        guard der.count == PEM.privateKeyPrefix.count + 32, der.starts(with: PEM.privateKeyPrefix) else {
            throw .invalidKey("not an Ed25519 PKCS #8 private key")
        }
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: Array(der.dropFirst(PEM.privateKeyPrefix.count)))
        } catch {
            throw .invalidKey("not an Ed25519 private key")
        }
    }

    /// The key as PEM `PRIVATE KEY` text.
    public var pem: String { PEM.encode(PEM.privateKeyPrefix + Array(key.rawRepresentation), label: "PRIVATE KEY") }

    /// The public half, which verifiers hold.
    public var publicKey: AuditPublicKey { AuditPublicKey(key.publicKey) }

    /// An Ed25519 signature of `message`.
    func signature(for message: [UInt8]) throws(AuditError) -> [UInt8] {
        do {
            return Array(try key.signature(for: message))
        } catch {
            throw .signingFailed("Ed25519 signing failed")
        }
    }
}

/// The broker's Ed25519 public key, with which anyone can check checkpoints.
///
/// Serialised as PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `openssl pkey -pubout` writes it.
public struct AuditPublicKey: Sendable, Hashable, CustomStringConvertible {
    private let key: Curve25519.Signing.PublicKey
    /// The 32 raw key bytes.
    public let rawRepresentation: [UInt8]
    /// The first 16 hex digits of the SHA-256 of ``rawRepresentation``; checkpoints name their key by it.
    public let keyID: String

    fileprivate init(_ key: Curve25519.Signing.PublicKey) {
        self.key = key
        self.rawRepresentation = Array(key.rawRepresentation)
        self.keyID = String(AuditDigest.sha256(of: rawRepresentation).hex.prefix(16))
    }

    /// A key from its 32 raw bytes.
    public init(rawRepresentation: [UInt8]) throws(AuditError) {
        guard rawRepresentation.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else {
            throw .invalidKey("an Ed25519 public key has 32 bytes")
        }
        self.init(key)
    }

    /// Reads a PEM `PUBLIC KEY` holding an Ed25519 key.
    public init(pem: String) throws(AuditError) {
        let der = try PEM.decode(pem, label: "PUBLIC KEY")
        guard der.count == PEM.publicKeyPrefix.count + 32, der.starts(with: PEM.publicKeyPrefix) else {
            throw .invalidKey("not an Ed25519 SubjectPublicKeyInfo")
        }
        try self.init(rawRepresentation: Array(der.dropFirst(PEM.publicKeyPrefix.count)))
    }

    /// The key as PEM `PUBLIC KEY` text.
    public var pem: String { PEM.encode(PEM.publicKeyPrefix + rawRepresentation, label: "PUBLIC KEY") }

    /// `ed25519:<keyID>`.
    public var description: String { "ed25519:\(keyID)" }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    /// Keys are equal when their raw bytes are.
    public static func == (lhs: AuditPublicKey, rhs: AuditPublicKey) -> Bool { lhs.rawRepresentation == rhs.rawRepresentation }

    /// Hashes the raw key bytes.
    public func hash(into hasher: inout Hasher) { hasher.combine(rawRepresentation) }
}

/// PEM armour and the fixed DER prefixes of Ed25519 keys (RFC 8410).
private enum PEM {
    /// PKCS #8 v1 `PrivateKeyInfo` for Ed25519, up to the 32-byte seed.
    static let privateKeyPrefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
    /// `SubjectPublicKeyInfo` for Ed25519, up to the 32-byte key.
    static let publicKeyPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    static func encode(_ der: [UInt8], label: String) -> String {
        let text = Array(Base64.encode(der).utf8)
        var lines: [String] = []
        var start = 0
        while start < text.count {
            lines.append(String(decoding: text[start..<min(start + 64, text.count)], as: UTF8.self))
            start += 64
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }

    static func decode(_ pem: String, label: String) throws(AuditError) -> [UInt8] {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard lines.count >= 3, lines.first == "-----BEGIN \(label)-----", lines.last == "-----END \(label)-----" else {
            throw .invalidKey("expected a PEM \(label) block")
        }
        guard let der = Base64.decode(lines.dropFirst().dropLast().joined()) else { throw .invalidKey("invalid base64 in PEM \(label)") }
        return der
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = self
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }
}
