import Foundation
public import SDEAudit

/// The broker's checkpoint-signing key pair on disk: `audit-signing-key.pem` (mode 0600, never committed) and
/// `audit-signing-key.pub.pem`, the public half that `audit verify` and external auditors use.
public struct AuditKeyFiles: Sendable {
    /// The private key file.
    public let privateKeyPath: String
    /// The public key file.
    public var publicKeyPath: String { privateKeyPath.replacingOccurrences(of: ".pem", with: ".pub.pem") }

    /// Key files in `directory` (the broker's state directory, `.sde/` by default).
    public init(directory: String) {
        privateKeyPath = directory + "/audit-signing-key.pem"
    }

    /// The signing key, made (with its public half beside it) on first use.
    public func loadOrCreate() throws -> AuditSigningKey {
        let fm = FileManager.default
        if let data = fm.contents(atPath: privateKeyPath) {
            do { return try AuditSigningKey(pem: String(decoding: data, as: UTF8.self)) } catch {
                throw StoreError.auditUnavailable("\(privateKeyPath) is not an Ed25519 private key")
            }
        }
        let key = AuditSigningKey()
        try? fm.createDirectory(atPath: (privateKeyPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard fm.createFile(atPath: privateKeyPath, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600]),
            fm.createFile(atPath: publicKeyPath, contents: Data(key.publicKey.pem.utf8), attributes: [.posixPermissions: 0o644])
        else { throw StoreError.auditUnavailable("cannot write the audit signing key \(privateKeyPath)") }
        return key
    }

    /// Reads a public key file: PEM, or a C2SP verifier key line (`sde-broker/audit/<key id>+...`).
    public static func publicKey(at path: String) throws -> AuditPublicKey {
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.io("cannot read the public key \(path)") }
        do { return try AuditPublicKey(pemOrVerifierKey: String(decoding: data, as: UTF8.self)) } catch {
            throw StoreError.io("\(path) is not an Ed25519 public key (PEM) or an sde-broker verifier key")
        }
    }

    /// The audit public key given in configuration, outside the state folder: the file at `path` (`--audit-public-key`),
    /// else `text` (`SDE_AUDIT_PUBLIC_KEY`: a verifier key line or PEM), else `nil`.
    public static func configuredPublicKey(file path: String?, text: String?) throws -> AuditPublicKey? {
        if let path { return try publicKey(at: path) }
        guard let text, !text.isEmpty else { return nil }
        do { return try AuditPublicKey(pemOrVerifierKey: text) } catch {
            throw StoreError.invalidArgument("SDE_AUDIT_PUBLIC_KEY is not a verifier key or a PEM public key: \(error.message)")
        }
    }
}
