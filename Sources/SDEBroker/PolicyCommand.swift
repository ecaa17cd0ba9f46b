import ArgumentParser
import Foundation
import SDECommon
import SDEPolicy
import SDEPolicyFiles

/// `sde-broker policy check|keygen|sign`: validate the policy set, make IG signing keys, sign approvals.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, sign and manage the policy files.",
        subcommands: [Check.self, Keygen.self, Sign.self]
    )

    /// Where the policy set lives.
    struct DirectoryOptions: ParsableArguments {
        @Option(name: .customLong("dir"), help: "The policy directory.")
        var directory = "Policies"
    }

    /// Today in UTC, or the `--today` override.
    static func day(_ text: String?) throws -> CivilDate {
        guard let text else { return CivilDate(dayNumber: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down))) }
        guard let date = CivilDate(parsing: text) else { throw ValidationError("'\(text)' is not a date (YYYY-MM-DD)") }
        return date
    }

    /// Prints an error's diagnostics to standard error and exits non-zero.
    static func fail(_ error: PolicyError) -> ExitCode {
        let lines = [error.message] + error.diagnostics.map(\.description)
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        return ExitCode.failure
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every policy file; print all errors (exit 1) or a summary and the policy digest.")

        @OptionGroup var options: DirectoryOptions

        @Option(help: "The local authority reference list (la_code,la_name,region_code,region_name).")
        var localAuthorities = "Sql/local_authorities.csv"

        @Option(help: "Evaluate project dates on this day (YYYY-MM-DD) instead of today.")
        var today: String?

        func run() throws {
            let now = try PolicyCommand.day(today)
            let reference = try referenceCodes(csvAt: localAuthorities)
            do {
                let policy = try PolicyDirectory.load(at: options.directory, reference: reference)
                print("policy set \(options.directory) is valid")
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

        @OptionGroup var options: DirectoryOptions

        @Option(help: "The approval date (YYYY-MM-DD) instead of today.")
        var date: String?

        @Argument(help: "The policy file to sign (projects/<id>.yaml or queries/<id>.yaml).")
        var policyFile: String

        func run() throws {
            let day = try PolicyCommand.day(date)
            do {
                try PolicyFileSigning.signFile(at: policyFile, keyFile: keyFile, signer: signer, policyDirectory: options.directory, date: day)
                print("signed \(policyFile) as \(signer) on \(day)")
            } catch {
                throw PolicyCommand.fail(error)
            }
        }
    }
}
