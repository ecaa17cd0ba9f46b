import ArgumentParser
import Foundation
import SDEAudit
import SDEServer
import SDEService

/// `sde-broker query run|show`.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run vetted queries under an approved project, or show one to the IG team.",
        subcommands: [Run.self, Show.self]
    )

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a vetted query as the token's user: access decided, cells protected, audited, then the table printed.",
            discussion: """
                With --server the query goes to a running broker's HTTP API (what researchers use); without it, the broker \
                runs in this process on the database (operators), deciding and auditing exactly as the API does.
                """)
        @Option(help: "The project id.") var project: String
        @Option(help: "The vetted query id.") var query: String
        @Option(name: .customLong("param"), help: "A parameter as NAME=VALUE (repeatable), e.g. from=2023Q2.") var params: [String] = []
        @Option(help: "table, json or csv.") var format: OutputFormat = .table
        @Option(help: "A running broker's base URL, e.g. http://127.0.0.1:8080.") var server: String?
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            let parameters = try parameterValues(params)
            if let server {
                let client = try APIClient(base: server, token: try token.presented(stateDir: options.stateDir))
                print(try await client.run(project: project, query: query, parameters: parameters, csv: format == .csv), terminator: "")
                return
            }
            let table = try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in
                    try await broker.queries.run(try await token.caller(broker, stateDir: options.stateDir), project: project, query: query, parameters: parameters)
                }
            }
            switch format {
            case .json: print(String(decoding: table.jsonWithAudit, as: UTF8.self))
            case .csv: print(table.document.csv, terminator: "")
            case .table: print(table.document.text + "\naudit event #\(table.event.sequence) \(table.event.hash.hex)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a vetted query's specification, compiled SQL and bound parameters (IG officers and operators, with their token; audited).",
            discussion: "Quarter parameters left out default to the dataset's whole coverage, shown as examples; no SQL is executed.")
        @Option(help: "The vetted query id.") var query: String
        @Option(name: .customLong("param"), help: "A parameter as NAME=VALUE (repeatable), e.g. from=2023Q2.") var params: [String] = []
        @OptionGroup var options: BrokerOptions
        @OptionGroup var token: TokenOptions

        func run() async throws {
            let parameters = try parameterValues(params)
            let shown = try await reportingRefusals {
                try await options.configuration().withBroker(logger: .cli) { broker in
                    try await broker.inspector.show(try await token.caller(broker, stateDir: options.stateDir), query: query, parameters: parameters)
                }
            }
            print(shown.specification.text + "\n\naudit event #\(shown.event.sequence) \(shown.event.hash.hex)")
        }
    }

    /// How `query run` prints the table.
    enum OutputFormat: String, ExpressibleByArgument {
        case table, json, csv
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
