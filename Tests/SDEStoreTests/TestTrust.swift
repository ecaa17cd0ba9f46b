import Foundation
import SDECommon
import SDEPolicy
import SDEPolicyFiles

/// Policy sets for tests that change the example set: re-signed under a root of keys generated for this test run.
///
/// The example approvals stay valid (the test root keeps the example root's IG officers' public keys); the manifest is
/// signed by `ig-test`, a key only this run holds. Nobody holds the example IG officers' private keys in a test.
enum TestTrust {
    /// The test run's signing key, `ig-test` in the test root.
    static let key = SigningKey()
    /// The committed example set.
    static var example: [PolicySourceFile] { get throws { try PolicyDirectory.files(at: QueryExecutionTests.root + "/Policies") } }

    /// `files` (a policy set's, roots and manifest included) with `edits` applied to the covered files, then re-signed:
    /// root 1 holding the example root's keys and `signer` (threshold 1, signed by `signer`) and manifest `version`
    /// signed by `signer`.
    static func resign(
        _ files: [PolicySourceFile], manifestVersion version: Int = 1, signer: (id: String, key: SigningKey) = ("ig-test", TestTrust.key),
        edits: [String: (String) -> String] = [:]
    ) throws -> [PolicySourceFile] {
        let example = try PolicySigning.roots(in: files).last
        var root = "version: 1\nthreshold: 1\nkeys:\n"
        for (id, key) in (example?.keys ?? [:]).sorted(by: { $0.key < $1.key }) where id != signer.id {
            root += "  - id: \(id)\n    public_key: \(Hex.encode(key))\n"
        }
        root += "  - id: \(signer.id)\n    public_key: \(signer.key.publicKeyHex)\n"
        root = try PolicySigning.signRoot(
            text: root, file: "root/1.yaml", previous: nil, key: signer.key, signer: signer.id, date: QueryRunnerTests.today
        ).text
        let covered = files.filter { !$0.path.hasPrefix("root/") && $0.path != PolicyManifest.file }.map { file in
            edits[file.path].map { PolicySourceFile(path: file.path, bytes: Array($0(String(decoding: file.bytes, as: UTF8.self)).utf8)) } ?? file
        }
        let manifest = try PolicySigning.manifest(
            version: version, covering: covered, signers: [(signer.id, signer.key)], date: QueryRunnerTests.today)
        return covered + [
            PolicySourceFile(path: "root/1.yaml", bytes: Array(root.utf8)), PolicySourceFile(path: PolicyManifest.file, bytes: Array(manifest.utf8)),
        ]
    }

    /// Writes `files` into `directory` (replacing what was there).
    static func write(_ files: [PolicySourceFile], to directory: String) throws {
        try? FileManager.default.removeItem(atPath: directory)
        for file in files {
            let path = directory + "/" + file.path
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            try Data(file.bytes).write(to: URL(fileURLWithPath: path))
        }
    }
}
