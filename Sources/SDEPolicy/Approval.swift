import Crypto
public import SDECommon

/// An IG officer's signed approval of a project or vetted query file (its `approval:` block).
public struct Approval: Sendable, Hashable {
    /// The signing IG officer's user id.
    public let signer: String
    /// The day it was signed.
    public let date: CivilDate
    /// The 64-byte Ed25519 signature over ``ApprovalSignature/message(content:signer:date:)``.
    public let signature: [UInt8]

    /// Creates an approval.
    public init(signer: String, date: CivilDate, signature: [UInt8]) {
        self.signer = signer
        self.date = date
        self.signature = signature
    }
}

/// Whether a signed policy file (project or vetted query) counts as approved.
public enum ApprovalStatus: Sendable, Hashable, CustomStringConvertible {
    /// The signature verifies against the key of an active IG officer.
    case approved(signer: String, date: CivilDate)
    /// The file has no `approval:` block.
    case unsigned
    /// The approval does not count; the reason says why (content changed, signer not an IG officer, ...).
    case void(reason: String)

    /// True only for ``approved(signer:date:)``.
    public var isApproved: Bool {
        if case .approved = self { return true }
        return false
    }

    /// `approved by X on D`, `unsigned` or `approval void: reason`.
    public var description: String {
        switch self {
        case .approved(let signer, let date): "approved by \(signer) on \(date)"
        case .unsigned: "unsigned"
        case .void(let reason): "approval void: \(reason)"
        }
    }
}

/// The Ed25519 signature scheme of approvals.
///
/// The signed message is the canonical JSON (``JSONValue/canonicalBytes``) of
/// `{"approval": {"date": D, "signer": S}, "content": C, "purpose": "sde-broker policy approval v1"}`, where `C` is the
/// whole file as JSON without its `approval` key. Comments, key order and layout do not matter; any change to a value
/// voids the approval, and so does changing the signer or date.
public enum ApprovalSignature {
    /// Domain separation for approval signatures.
    public static let purpose = "sde-broker policy approval v1"

    /// The bytes an IG officer signs.
    public static func message(content: JSONValue, signer: String, date: CivilDate) -> [UInt8] {
        let approval: JSONValue = .object(["signer": .string(signer), "date": .string(date.description)])
        return JSONValue.object(["approval": approval, "content": content, "purpose": .string(purpose)]).canonicalBytes
    }

    /// Whether `signature` is `signer`'s signature of `content` on `date` under the raw Ed25519 `publicKey`.
    public static func verify(_ signature: [UInt8], content: JSONValue, signer: String, date: CivilDate, publicKey: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message(content: content, signer: signer, date: date))
    }

    /// Whether `bytes` is a usable raw Ed25519 public key.
    static func isValidPublicKey(_ bytes: [UInt8]) -> Bool {
        (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil
    }

    /// The status of `approval` on a file whose content (without approval) is `content`, given the users and the
    /// policy root's keys (the only keys that verify approvals; `root` names the root file in messages).
    static func status(of approval: Approval?, content: JSONValue, users: [String: User], keys: [String: [UInt8]], root: String) -> ApprovalStatus {
        guard let approval else { return .unsigned }
        guard let signer = users[approval.signer] else {
            return .void(reason: "signer '\(approval.signer)' is not a user")
        }
        guard signer.has(.igOfficer) else {
            return .void(reason: "signer '\(signer.id)' is not an IG officer")
        }
        guard signer.active else {
            return .void(reason: "signer '\(signer.id)' is no longer an active IG officer; ask a current IG officer to re-sign")
        }
        guard let key = keys[signer.id] else {
            return .void(reason: "signer '\(signer.id)' holds no key in the policy root (\(root)); a new root must add it")
        }
        guard verify(approval.signature, content: content, signer: signer.id, date: approval.date, publicKey: key) else {
            return .void(reason: "signature does not match the content (changed after signing?) or the signer's key; re-sign with `policy sign`")
        }
        return .approved(signer: signer.id, date: approval.date)
    }
}

extension PolicyLoader {
    /// Reads an optional top-level `approval:` block.
    static func readApproval(_ fields: FieldReader) -> Approval? {
        guard let approval = fields.mapping("approval", required: false, what: "'approval'", allowed: ["signer", "date", "signature"])
        else { return nil }
        let signer = approval.identifier("signer")
        let date = approval.date("date")
        var signature: [UInt8]? = nil
        if let node = approval.node("signature"), let text = approval.text(node, "signature") {
            if let bytes = Hex.decode(text), bytes.count == 64 {
                signature = bytes
            } else {
                approval.error(node.line, "'signature' must be a 64-byte Ed25519 signature in hex (128 characters)")
            }
        }
        guard let signer, let date, let signature else { return nil }
        return Approval(signer: signer, date: date, signature: signature)
    }

    /// The file's JSON content without its `approval` key: what approvals sign.
    static func signedContent(_ root: PolicyNode) -> JSONValue {
        guard case .object(var members) = root.json else { return root.json }
        members["approval"] = nil
        return .object(members)
    }
}
