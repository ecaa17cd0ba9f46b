import ArgumentParser
import Foundation
import SDEPolicy
import SDEPolicyFiles
import SDEServer

/// `sde-broker policy check|keygen|sign|sign-manifest|sign-root`: validate the signed policy set, make IG signing keys,
/// sign approvals, the manifest and policy roots. One command per signer.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, sign and manage the policy files.",
        subcommands: [Check.self, Keygen.self, Sign.self, SignManifest.self, SignRoot.self]
    )

    /// Prints an error's diagnostics to standard error and exits non-zero.
    static func fail(_ error: PolicyError) -> ExitCode {
        let lines = [error.message] + error.diagnostics.map(\.description)
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        return ExitCode.failure
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Validate every policy file, the root chain's and the manifest's signatures and thresholds, and the manifest's digests; print all errors (exit 1) or a summary and the policy digest."
        )

        @OptionGroup var options: BrokerOptions

        func run() throws {
            let now = try options.day()
            let loader = try options.policy.loader()
            do {
                let policy = try loader()
                print("policy set \(options.policyDir) is valid and signed")
                print(policy.summary(now: now))
                print("(offline: the broker also refuses a set that rolls back the versions it accepted, at serve and each command)")
            } catch {
                throw PolicyCommand.fail(error)
            }
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Make an Ed25519 key pair for an IG officer: the private key goes to a new 0600 file, the public key is printed for the policy root.")

        @Option(help: "The private key file to create (never commit it).")
        var out: String

        func run() throws {
            do {
                let key = try PolicyFileSigning.generateKey(writingTo: out)
                print("private key written to \(out) (mode 0600; keep it secret)")
                print("public key: \(key.publicKeyHex)")
                print("add it to the keys of a new policy root (root/<n>.yaml; then `policy sign-root` and `policy sign-manifest`) as:")
                print("  - {id: <IG officer's user id>, public_key: \(key.publicKeyHex)}")
            } catch {
                throw PolicyCommand.fail(error)
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Sign a project or vetted query file as an IG officer (key in the policy root), replacing any approval block; then sign a new manifest."
        )

        @Option(help: "The IG officer's private key file.")
        var keyFile: String

        @Option(help: "The IG officer's user id in users.yaml (their key is in the policy root).")
        var signer: String

        @OptionGroup var options: BrokerOptions

        @Argument(help: "The policy file to sign (projects/<id>.yaml or queries/<id>.yaml).")
        var policyFile: String

        func run() throws {
            let day = try options.day()
            do {
                try PolicyFileSigning.signFile(at: policyFile, keyFile: keyFile, signer: signer, policyDirectory: options.policyDir, date: day)
                print("signed \(policyFile) as \(signer) on \(day)")
                print("the manifest no longer covers it: the IG officers sign a new one (`sde-broker policy sign-manifest`)")
            } catch {
                throw PolicyCommand.fail(error)
            }
        }
    }

    struct SignManifest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-manifest",
            abstract:
                "Sign the manifest of the policy set as an IG officer: a new version when any file changed since the current manifest, otherwise one more signature on it. Each IG officer runs it once."
        )

        @Option(help: "The IG officer's private key file.")
        var keyFile: String

        @Option(help: "The IG officer's id (a key id of the latest policy root).")
        var signer: String

        @OptionGroup var options: BrokerOptions

        func run() throws {
            let day = try options.day()
            do {
                let signing = try PolicyFileSigning.signManifest(
                    policyDirectory: options.policyDir, keyFile: keyFile, signer: signer, reference: try options.policy.referenceCodes(), date: day)
                let kind = signing.isNewVersion ? "new manifest version" : "manifest version"
                print("signed \(kind) \(signing.version) of \(options.policyDir) as \(signer) on \(day)")
                if signing.isNewVersion {
                    print(
                        signing.changes.isEmpty
                            ? "no file changed; the version went up because the current manifest's signatures do not verify"
                            : "changes since the previous manifest (review them: git diff):")
                    for change in signing.changes { print("  \(change)") }
                }
                print(
                    signing.policy.summary(now: day).split(separator: "\n").filter { !$0.hasPrefix("signed:") && !$0.hasPrefix("root digest:") }
                        .joined(separator: "\n"))
                let missing = signing.threshold - signing.signers.count
                print(
                    "signatures: \(signing.signers.joined(separator: ", ")) (\(signing.signers.count) of \(signing.threshold) required)"
                        + (missing > 0 ? "; \(missing) more IG officer(s) must run this command before the broker accepts it" : "; the set is signed")
                )
            } catch let error as PolicyError {
                throw PolicyCommand.fail(error)
            }
        }
    }

    struct SignRoot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-root",
            abstract:
                "Sign a policy root (root/<n>.yaml) as an IG officer of it or of root n-1: a new root needs a threshold of both. Each IG officer runs it once."
        )

        @Option(help: "The IG officer's private key file.")
        var keyFile: String

        @Option(help: "The IG officer's id (a key id of this root or of the one before).")
        var signer: String

        @OptionGroup var options: BrokerOptions

        @Argument(help: "The root file to sign (default: the highest-numbered root/<n>.yaml of the policy directory).")
        var rootFile: String?

        func run() throws {
            let day = try options.day()
            do {
                let path: String
                if let rootFile { path = rootFile } else { path = try latestRoot() }
                let signing = try PolicyFileSigning.signRoot(
                    at: path, keyFile: keyFile, signer: signer, policyDirectory: options.policyDir, date: day)
                print("signed \(path) (root version \(signing.version)) as \(signer) on \(day)")
                print(
                    "  its own IG officers: \(signing.ownSigners.joined(separator: ", ")) (\(signing.ownSigners.count) of \(signing.ownThreshold) required)"
                )
                if let previous = signing.previousSigners, let threshold = signing.previousThreshold {
                    print(
                        "  root \(signing.version - 1)'s IG officers: \(previous.joined(separator: ", ")) (\(previous.count) of \(threshold) required)"
                    )
                }
                print(
                    signing.isComplete
                        ? "the root is fully signed; the IG officers now sign the manifest under it (`sde-broker policy sign-manifest`)"
                        : "more IG officers must run this command before the root counts")
            } catch {
                throw PolicyCommand.fail(error)
            }
        }

        /// The highest-numbered root file of the policy directory.
        private func latestRoot() throws(PolicyError) -> String {
            let roots = try PolicyDirectory.files(at: options.policyDir).compactMap { file -> Int? in
                let name = file.path.split(separator: "/")
                guard name.count == 2, name[0] == "root", name[1].hasSuffix(".yaml") else { return nil }
                return Int(name[1].dropLast(5))
            }
            guard let latest = roots.max() else { throw .signing("\(options.policyDir)/root/ holds no root file; write root/1.yaml first") }
            return "\(options.policyDir)/root/\(latest).yaml"
        }
    }
}
