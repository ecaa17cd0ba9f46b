/// Why an audit value could not be built, decoded or appended.
///
/// Branch on ``code``; ``message`` is for people and may change.
///
/// ```swift
/// do { _ = try AuditJSONL.decode(line) } catch { if error.code == .malformedLine { ... } }
/// ```
public struct AuditError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of audit error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidField = "invalid_field"
            case malformedLine = "malformed_line"
            case invalidKey = "invalid_key"
            case signingFailed = "signing_failed"
            case doesNotExtendChain = "does_not_extend_chain"
            case invalidCheckpoint = "invalid_checkpoint"
            case inconsistentTree = "inconsistent_tree"
            case treeUnknown = "tree_unknown"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A draft field breaks the rules that keep record-level values and secrets out of the trail.
        public static let invalidField = Code(.invalidField)
        /// A JSONL line is not exactly the canonical encoding of an event.
        public static let malformedLine = Code(.malformedLine)
        /// A key file or public key is not an Ed25519 key in the expected format.
        public static let invalidKey = Code(.invalidKey)
        /// The signing key failed to produce a signature.
        public static let signingFailed = Code(.signingFailed)
        /// An event is not the next link of the chain it was offered to.
        public static let doesNotExtendChain = Code(.doesNotExtendChain)
        /// A signed checkpoint (note) does not parse, or is not signed by the trusted key.
        public static let invalidCheckpoint = Code(.invalidCheckpoint)
        /// Two checkpoints of the trail are not of one append-only tree: the trail was rewritten or cut.
        public static let inconsistentTree = Code(.inconsistentTree)
        /// A checkpoint was asked of a chain that does not know the Merkle tree of its events.
        public static let treeUnknown = Code(.treeUnknown)

        /// The snake_case name of the code.
        public var description: String { base.rawValue }
    }

    /// What went wrong, for branching.
    public let code: Code
    /// What went wrong, for people.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    static func invalidField(_ field: String, _ why: String) -> AuditError { AuditError(.invalidField, "\(field): \(why)") }
    static func malformedLine(at offset: Int, _ why: String) -> AuditError { AuditError(.malformedLine, "byte \(offset): \(why)") }
    static func invalidKey(_ why: String) -> AuditError { AuditError(.invalidKey, why) }
    static func signingFailed(_ why: String) -> AuditError { AuditError(.signingFailed, why) }
    static func doesNotExtendChain(_ why: String) -> AuditError { AuditError(.doesNotExtendChain, why) }
    static func invalidCheckpoint(_ why: String) -> AuditError { AuditError(.invalidCheckpoint, why) }
    static func inconsistentTree(_ why: String) -> AuditError { AuditError(.inconsistentTree, why) }
    static func treeUnknown(_ why: String) -> AuditError { AuditError(.treeUnknown, why) }
}
