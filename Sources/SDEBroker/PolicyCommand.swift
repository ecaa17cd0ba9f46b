import ArgumentParser
import Foundation
import SDEPolicy
import SDEPolicyFiles
import SDEServer

/// `sde-broker policy check|keygen|sign`: validate the policy set, make IG signing keys, sign approvals.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, sign and manage the policy files.",
        subcommands: [Check.self, Keygen.self, Sign.self]
    )

    /// Prints an error's diagnostics to standard error and exits non-zero.
    static func fail(_ error: PolicyError) -> ExitCode {
        let lines = [error.message] + error.diagnostics.map(\.description)
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        return ExitCode.failure
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every policy file; print all errors (exit 1) or a summary and the policy digest.")

        @OptionGroup var options: BrokerOptions

        func run() throws {
            let now = try options.day()
            let loader = try options.policy.loader()
            do {
                let policy = try loader()
                print("policy set \(options.policyDir) is valid")
                print(policy.summary(now: now))
            } catch {
                throw PolicyCommand.fail(error)
            }
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an Ed25519 key pair for an IG officer: the private key goes to a new 0600 file, the public key is printed.")

        @Option(help: "The private key file to create (never commit it).")
        var out: String

        func run() throws {
            do {
                let key = try PolicyFileSigning.generateKey(writingTo: out)
                print("private key written to \(out) (mode 0600; keep it secret)")
                print("public key: \(key.publicKeyHex)")
                print("add it to the IG officer's entry in users.yaml as:  public_key: \(key.publicKeyHex)")
            } catch {
                throw PolicyCommand.fail(error)
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a project or vetted query file as an IG officer, replacing any approval block.")

        @Option(help: "The IG officer's private key file.")
        var keyFile: String

        @Option(help: "The IG officer's user id in users.yaml.")
        var signer: String

        @OptionGroup var options: BrokerOptions

        @Argument(help: "The policy file to sign (projects/<id>.yaml or queries/<id>.yaml).")
        var policyFile: String

        func run() throws {
            let day = try options.day()
            do {
                try PolicyFileSigning.signFile(at: policyFile, keyFile: keyFile, signer: signer, policyDirectory: options.policyDir, date: day)
                print("signed \(policyFile) as \(signer) on \(day)")
            } catch {
                throw PolicyCommand.fail(error)
            }
        }
    }
}
