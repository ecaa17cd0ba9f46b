import Foundation
import SDEPolicy
import SDEServiceFakes
import Testing

/// The policy tests' name for the shared fixture (``PolicyFixture``, in SDEServiceFakes).
typealias Fixture = PolicyFixture

extension PolicyFixture {
    /// Replaces the first `old` in `path` with `new` (before signing), recording an issue when `old` is not there.
    mutating func edit(_ path: String, _ old: String, _ new: String) {
        if !replace(path, old, new) { Issue.record("fixture edit: '\(old)' not found in \(path)") }
    }

    /// The diagnostics of a set that must fail to load.
    func diagnostics() throws -> [PolicyDiagnostic] {
        do {
            _ = try load()
            Issue.record("expected the policy set to be invalid")
            return []
        } catch let error as PolicyError {
            return error.diagnostics
        }
    }

    /// The 1-based line of the first occurrence of `text` in `path` (after edits, before signing).
    func line(of text: String, in path: String) -> Int {
        guard let file = files[path], let range = file.range(of: text) else {
            Issue.record("'\(text)' not found in \(path)")
            return 0
        }
        return file[..<range.lowerBound].filter { $0 == "\n" }.count + 1
    }
}

extension User {
    /// The fixture's IG officer, who signs fixture files.
    static let igOfficer = PolicyFixture.signer
}
