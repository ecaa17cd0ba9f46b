import ArgumentParser
import Foundation
import SDECommon
import SDEServer
import SDEService

/// `sde-broker token bootstrap|issue|revoke|list`: API tokens for the HTTP API and the command line. Every issue and
/// revocation is audited; only operators (with their own token) manage tokens.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue, revoke and list API tokens (only their SHA-256 hashes are stored).",
        subcommands: [Bootstrap.self, Issue.self, Revoke.self, List.self]
    )

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue the first operator token of a broker (refused once any operator holds a usable token); audited.")
        @Option(help: "The operator's user id (an active operator in the policy set).") var user: String
        @Option(help: "The last day (YYYY-MM-DD, inclusive) the token works; default 90 days from today.") var expires: String?
        @Flag(help: "Write the token to <state-dir>/operator.token (mode 0600) instead of printing it.") var save = false
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            let expiry = try expiryDay(expires, today: try options.day())
            let issued = try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in try await broker.tokens.bootstrap(operator: user, expires: expiry) }
            }
            if save {
                try saveToken(issued.token, stateDir: options.stateDir)
                print("token \(issued.id) for \(user), valid to \(expiry) inclusive, saved to \(options.stateDir)/operator.token")
            } else {
                print(issued.token)
                FileHandle.standardError.write(Data("token \(issued.id) for \(user), valid to \(expiry) inclusive; it is shown only once\n".utf8))
            }
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for an active user in the policy set (operators); the token is printed once, on standard output.")
        @Option(help: "The user id (an active user in the policy set).") var user: String
        @Option(help: "The last day (YYYY-MM-DD, inclusive) the token works; default 90 days from today.") var expires: String?
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            let expiry = try expiryDay(expires, today: try options.day())
            let issued = try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in
                    try await broker.tokens.issue(try await token.caller(broker, stateDir: options.stateDir), for: user, expires: expiry)
                }
            }
            print(issued.token)
            FileHandle.standardError.write(
                Data("token \(issued.id) for \(user), valid to \(expiry) inclusive; it is shown only once and not stored\n".utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by its id (from `token list`); it stops working at once (operators; exit 1, audited, when no unrevoked token has that id).")
        @Argument(help: "The token id (16 hex digits).") var id: String
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in
                    try await broker.tokens.revoke(try await token.caller(broker, stateDir: options.stateDir), id: id)
                }
            }
            print("token \(id) revoked")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every token: id, user, created, expires, state (never secrets; operators).")
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            let now = try options.day()
            let records = try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in
                    try await broker.tokens.list(try await token.caller(broker, stateDir: options.stateDir))
                }
            }
            let created = ISO8601DateFormatter()
            var lines = [["id", "user", "created", "expires", "state"]]
            for record in records {
                let state = record.revoked != nil ? "revoked" : (now > record.expires ? "expired" : "active")
                lines.append([record.id, record.user, created.string(from: record.created), record.expires.description, state])
            }
            let widths = lines[0].indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
            for line in lines {
                print(zip(line, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }
}

/// `--expires`, or 90 days from `today`; never in the past.
func expiryDay(_ text: String?, today: CivilDate) throws -> CivilDate {
    guard let text else { return today.adding(days: 90) }
    guard let date = CivilDate(parsing: text) else { throw ValidationError("--expires '\(text)' is not a date (YYYY-MM-DD)") }
    guard date >= today else { throw ValidationError("--expires \(date) is in the past (today is \(today))") }
    return date
}

/// Writes an operator token to `<state-dir>/operator.token`, readable by its owner only.
func saveToken(_ token: String, stateDir: String) throws {
    let path = stateDir + "/operator.token"
    try? FileManager.default.removeItem(atPath: path)
    guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
        throw ValidationError("cannot write \(path)")
    }
}
