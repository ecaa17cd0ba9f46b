import ArgumentParser
import Foundation
import Logging
import SDEAudit
import SDECommon
import SDEPolicy
import SDEPolicyFiles
import SDEService
import SDEStore

/// `sde-broker query run`.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run vetted queries under an approved project, or show one to the IG team.",
        subcommands: [Run.self, Show.self]
    )

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide access, run a vetted query as the read-only role, protect every cell, audit, then print the table.")
        @Option(help: "The researcher's user id.") var user: String
        @Option(help: "The project id.") var project: String
        @Option(help: "The vetted query id.") var query: String
        @Option(name: .customLong("param"), help: "A parameter as NAME=VALUE (repeatable), e.g. from=2023Q2.") var params: [String] = []
        @Option(help: "table, json or csv.") var format: String = "table"
        @Option(help: "The policy directory.") var policyDir = "Policies"
        @Option(help: "Evaluate dates on this day (YYYY-MM-DD) instead of today.") var today: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            guard ["table", "json", "csv"].contains(format) else { throw ValidationError("--format must be table, json or csv") }
            let output = try await runQuery(
                user: user, project: project, query: query, parameters: try parameterValues(params), today: try PolicyCommand.day(today),
                policyDir: policyDir, database: database)
            switch output {
            case .released(let document, let json, event: let event):
                switch format {
                case "json": print(String(decoding: ProtectedTableDocument.canonicalBytes(json, audit: event.head), as: UTF8.self))
                case "csv": print(document.csv, terminator: "")
                default: print(document.text + "\naudit event #\(event.sequence) \(event.hash.hex)")
                }
            case .denied(let denial, event: let event):
                FileHandle.standardError.write(Data("denied (\(denial.reason.rawValue)): \(denial.message)\naudit event #\(event.sequence)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}

extension QueryCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a vetted query's specification, compiled SQL and bound parameters (IG officers and operators; audited).",
            discussion: "Quarter parameters left out default to the dataset's whole coverage, shown as examples; no SQL is executed.")
        @Option(help: "The IG officer's or operator's user id.") var user: String
        @Option(help: "The vetted query id.") var query: String
        @Option(name: .customLong("param"), help: "A parameter as NAME=VALUE (repeatable), e.g. from=2023Q2.") var params: [String] = []
        @Option(help: "The policy directory.") var policyDir = "Policies"
        @Option(help: "Evaluate dates on this day (YYYY-MM-DD) instead of today.") var today: String?
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let parameters = try parameterValues(params)
            let policy = try PolicyDirectory.load(at: policyDir, reference: try referenceCodes(csvAt: database.sqlDir + "/local_authorities.csv"))
            let day = try PolicyCommand.day(today)
            let outcome = try await withAuditTrail(database) { trail in
                try await QueryInspector(policy: policy, trail: trail, logger: .cli).show(user: user, query: query, parameters: parameters, today: day)
            }
            switch outcome {
            case .shown(let specification, event: let event):
                print(specification.text + "\n\naudit event #\(event.sequence) \(event.hash.hex)")
            case .denied(let denial, event: let event):
                FileHandle.standardError.write(Data("denied (\(denial.reason.rawValue)): \(denial.message)\naudit event #\(event.sequence)\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}

/// `--param NAME=VALUE` options as a dictionary; each name once.
func parameterValues(_ params: [String]) throws -> [String: String] {
    var parameters: [String: String] = [:]
    for param in params {
        let parts = param.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, parameters.updateValue(parts[1], forKey: parts[0]) == nil else {
            throw ValidationError("--param must be NAME=VALUE, each name once")
        }
    }
    return parameters
}

/// Loads the policy set, opens the audit trail, and runs one vetted query through ``QueryRunner``.
func runQuery(
    user: String, project: String, query: String, parameters: [String: String], today: CivilDate, policyDir: String, database: DatabaseOptions
) async throws -> QueryRunner.Outcome {
    let policy = try PolicyDirectory.load(at: policyDir, reference: try referenceCodes(csvAt: database.sqlDir + "/local_authorities.csv"))
    return try await withQueryRunner(policy: policy, database: database) { runner in
        try await runner.run(user: user, project: project, query: query, parameters: parameters, today: today)
    }
}

/// Runs `body` with a ``QueryRunner`` over `policy` and one open audit trail, closed (with a checkpoint) afterwards.
func withQueryRunner<Result: Sendable>(
    policy: PolicySet, database: DatabaseOptions, _ body: (QueryRunner) async throws -> Result
) async throws -> Result {
    try await withAuditTrail(database) { trail in
        try await body(QueryRunner(policy: policy, database: try await database.config(logger: .cli), trail: trail, logger: .cli))
    }
}
