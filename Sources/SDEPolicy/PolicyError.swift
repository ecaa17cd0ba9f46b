/// One problem found in a policy file, located by file and line (`file:line: message`).
public struct PolicyDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file, as given to the loader (relative to the policy directory, or prefixed with it by `PolicyDirectory` in SDEPolicyFiles).
    public var file: String
    /// The 1-based line the problem is on (1 when the whole file is at fault).
    public var line: Int
    /// What is wrong, written for the person who edits the file.
    public var message: String

    /// Creates a diagnostic.
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`.
    public var description: String { "\(file):\(line): \(message)" }
}

/// An error from loading, checking or signing policy files.
///
/// Branch on ``code``. Loading reports every problem at once: ``diagnostics`` holds one entry per problem, each
/// `file:line: message`.
///
/// ```swift
/// do { _ = try PolicySet.load(files, reference: codes) } catch where error.code == .invalidPolicy { print(error) }
/// ```
public struct PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of policy error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidPolicy = "invalid_policy"
            case unreadable
            case keyFile = "key_file"
            case signing
            case rollback = "policy_rollback"
            case unchecked = "policy_unchecked"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The policy files are invalid; ``PolicyError/diagnostics`` says where and why.
        public static let invalidPolicy = Code(.invalidPolicy)
        /// A file or directory could not be read or written.
        public static let unreadable = Code(.unreadable)
        /// A private key file is missing, malformed or would be overwritten.
        public static let keyFile = Code(.keyFile)
        /// A policy file cannot be signed (wrong signer, wrong key, unsignable file).
        public static let signing = Code(.signing)
        /// A valid, signed set that does not extend the versions this broker accepted before: an older manifest, the same
        /// version with other content, or a root that does not chain from the pinned one. ``PolicyError/diagnostics``
        /// says where.
        public static let rollback = Code(.rollback)
        /// The set's versions could not be checked against the ones this broker accepted (the database did not answer);
        /// nothing is served until they are.
        public static let unchecked = Code(.unchecked)

        /// The snake_case name of the code.
        public var description: String { base.rawValue }
    }

    /// What went wrong, for branching.
    public let code: Code
    /// A one-line summary, for people.
    public let message: String
    /// Every located problem (for an invalid policy set; empty for other errors).
    public let diagnostics: [PolicyDiagnostic]

    private init(_ code: Code, _ message: String, diagnostics: [PolicyDiagnostic] = []) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
    }

    /// The summary followed by every diagnostic, one per line.
    public var description: String {
        (["\(code): \(message)"] + diagnostics.map(\.description)).joined(separator: "\n")
    }

    /// An ``Code/invalidPolicy`` error holding `diagnostics`.
    public static func invalidPolicy(_ diagnostics: [PolicyDiagnostic]) -> PolicyError {
        let noun = diagnostics.count == 1 ? "error" : "errors"
        return PolicyError(.invalidPolicy, "policy set is invalid: \(diagnostics.count) \(noun)", diagnostics: diagnostics)
    }

    /// An ``Code/unreadable`` error: `path: reason`.
    public static func unreadable(_ path: String, _ reason: String) -> PolicyError {
        PolicyError(.unreadable, "\(path): \(reason)")
    }

    /// A ``Code/keyFile`` error: `path: reason`.
    public static func keyFile(_ path: String, _ reason: String) -> PolicyError {
        PolicyError(.keyFile, "\(path): \(reason)")
    }

    /// A ``Code/signing`` error.
    public static func signing(_ reason: String) -> PolicyError {
        PolicyError(.signing, reason)
    }

    /// A ``Code/rollback`` error holding `diagnostics`.
    public static func rollback(_ diagnostics: [PolicyDiagnostic]) -> PolicyError {
        PolicyError(.rollback, "policy set refused: it does not extend the signed versions this broker accepted", diagnostics: diagnostics)
    }

    /// A ``Code/unchecked`` error: why the versions could not be checked.
    public static func unchecked(_ reason: String) -> PolicyError {
        PolicyError(.unchecked, "policy set not checked against the versions this broker accepted: \(reason)")
    }

    /// The same error with every diagnostic's file prefixed by `directory` (`Policies/users.yaml`).
    public func locating(in directory: String) -> PolicyError {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return PolicyError(
            code, message, diagnostics: diagnostics.map { PolicyDiagnostic(file: prefix + $0.file, line: $0.line, message: $0.message) })
    }
}

/// Collects diagnostics while a policy set is loaded (one per load; not shared across tasks).
final class DiagnosticLog {
    private(set) var items: [PolicyDiagnostic] = []

    func error(_ file: String, _ line: Int, _ message: String) {
        items.append(PolicyDiagnostic(file: file, line: line, message: message))
    }

    var isEmpty: Bool { items.isEmpty }

    /// Diagnostics ordered by file, then line, then message.
    var sorted: [PolicyDiagnostic] {
        items.sorted { ($0.file, $0.line, $0.message) < ($1.file, $1.line, $1.message) }
    }
}
