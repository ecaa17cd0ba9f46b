import ArgumentParser
import Foundation
import Logging
import SDEAudit
import SDECommon
import SDEPolicy
import SDEPolicyFiles
import SDEStore

/// `sde-broker token issue|revoke|list`: API tokens for the HTTP API. Issuing and revoking are audited.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue, revoke and list API tokens (only their SHA-256 hashes are stored).",
        subcommands: [Issue.self, Revoke.self, List.self]
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for an active user in the policy set; the token is printed once, on standard output.")
        @Option(help: "The user id (must be an active user in the policy set).") var user: String
        @Option(help: "The last day (YYYY-MM-DD, inclusive) the token works; default 90 days from today.") var expires: String?
        @Option(help: "The policy directory.") var policyDir = "Policies"
        @Option(help: "Evaluate dates on this day (YYYY-MM-DD) instead of today.") var today: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let now = try PolicyCommand.day(today)
            let expiry: CivilDate
            if let expires {
                guard let date = CivilDate(parsing: expires) else { throw ValidationError("--expires '\(expires)' is not a date (YYYY-MM-DD)") }
                expiry = date
            } else {
                expiry = now.adding(days: 90)
            }
            guard expiry >= now else { throw ValidationError("--expires \(expiry) is in the past (today is \(now))") }
            let policy: PolicySet
            do {
                policy = try PolicyDirectory.load(at: policyDir, reference: try referenceCodes(csvAt: database.sqlDir + "/local_authorities.csv"))
            } catch let error as PolicyError {
                throw PolicyCommand.fail(error)
            }
            let issued = try await issueToken(user: user, expires: expiry, policy: policy, database: database)
            print(issued.token)
            FileHandle.standardError.write(
                Data("token \(issued.id) for \(user), valid to \(expiry) inclusive; it is shown only once and not stored\n".utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (from `token list`); it stops working at once.")
        @Argument(help: "The token id (16 hex digits).") var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            guard id.utf8.count == 16, id.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                throw ValidationError("'\(id)' is not a token id (16 lower-case hex digits, as `token list` shows)")
            }
            let revoked = try await withMigratedDatabase(database) { db in try await TokenStore.revoke(id: id, on: db) }
            guard revoked else {
                FileHandle.standardError.write(Data("no unrevoked token has id \(id); nothing changed\n".utf8))
                throw ExitCode.failure
            }
            try await recordTokenEvent(.tokenRevoked, id: id, parameters: [:], database: database)
            print("token \(id) revoked")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every token: id, user, created, expires, state (never secrets).")
        @Option(help: "Evaluate expiry on this day (YYYY-MM-DD) instead of today.") var today: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let now = try PolicyCommand.day(today)
            let records = try await withMigratedDatabase(database) { db in try await TokenStore.list(on: db) }
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

/// Issues a token for an active user of `policy` and audits it (`token.issued`, naming the token id, never the token).
/// A token whose audit event cannot be written is revoked at once: no unaudited token stays usable.
func issueToken(user: String, expires: CivilDate, policy: PolicySet, database: DatabaseOptions) async throws -> IssuedToken {
    guard let known = policy.users[user] else { throw ValidationError("user '\(user)' is not in the policy set") }
    guard known.active else { throw ValidationError("user '\(user)' is inactive in the policy set") }
    let issued = try await withMigratedDatabase(database) { db in try await TokenStore.issue(user: user, expires: expires, on: db) }
    do {
        try await recordTokenEvent(.tokenIssued, id: issued.id, parameters: ["user": user, "expires": expires.description], database: database)
    } catch {
        _ = try? await withMigratedDatabase(database) { db in try await TokenStore.revoke(id: issued.id, on: db) }
        throw error
    }
    return issued
}

/// Runs `body` on the database after checking its schema is up to date.
private func withMigratedDatabase<Result: Sendable>(_ database: DatabaseOptions, _ body: (DatabaseSession) async throws -> Result) async throws -> Result {
    try await DatabaseSession.with(try await database.config(logger: .cli), logger: .cli) { db in
        guard try await database.migrator.pending(db).isEmpty else {
            throw ValidationError("the database schema is not up to date: run `sde-broker db migrate` first")
        }
        return try await body(db)
    }
}

/// Audits an operator's token operation; the target is the token id, never the token.
private func recordTokenEvent(_ action: AuditAction, id: String, parameters: [String: String], database: DatabaseOptions) async throws {
    _ = try await withAuditTrail(database) { trail in
        try await trail.record(AuditEventDraft(actor: operatorName, role: "operator", action: action, target: id, parameters: parameters, outcome: .allowed))
    }
}
