import ArgumentParser
import Logging
import SDEDevCluster
import SDEServer
import SDEStore

/// `sde-broker db start|stop|status|migrate`: operator tools on the machine that runs the database.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the database: the embedded PostgreSQL (unless DATABASE_URL is set) and its schema (operator tools).",
        subcommands: [Start.self, Stop.self, Status.self, Migrate.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Initialise (first time) and start the embedded PostgreSQL.")
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            guard options.embedded != nil else { throw ValidationError("DATABASE_URL is set: the broker does not manage that server") }
            let configuration = try await options.configuration(start: true)
            print("PostgreSQL running at \(configuration.database.redacted) (cluster in \(options.stateDir))")
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded PostgreSQL.")
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            guard let cluster = options.embedded else { throw ValidationError("DATABASE_URL is set: the broker does not manage that server") }
            try cluster.stop()
            print("PostgreSQL stopped")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show whether the database runs and whether migrations are pending.")
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            if let cluster = options.embedded {
                let status = try cluster.status()
                switch status {
                case .notInitialised: print("embedded PostgreSQL: not initialised (run `sde-broker db start`)")
                case .stopped: print("embedded PostgreSQL: stopped")
                case .running(let port): print("embedded PostgreSQL: running on 127.0.0.1:\(port)")
                }
                guard case .running = status else { throw ExitCode(3) }
            }
            let configuration = try await options.configuration()
            let pending = try await DatabaseSession.with(configuration.database, logger: .cli) { try await configuration.migrator.pending($0) }
            print(pending.isEmpty ? "schema: up to date" : "schema: \(pending.count) pending: \(pending.joined(separator: ", "))")
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending migrations, views and reference data (a no-op when up to date).")
        @OptionGroup var options: BrokerOptions

        func run() async throws {
            let configuration = try await options.configuration()
            let report = try await DatabaseSession.with(configuration.database, logger: .cli) { try await configuration.migrator.migrate($0) }
            if report.applied.isEmpty {
                print("schema up to date (\(report.unchanged) files already applied)")
            } else {
                for name in report.applied { print("applied \(name)") }
            }
        }
    }
}
