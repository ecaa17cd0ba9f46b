import ArgumentParser
import Hummingbird
import SDEConsole
import SDEServer
import SDEService

/// `sde-broker serve`: the HTTP API, until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API and the web console under /console (researchers, IG officers, regulators); SIGHUP reloads the policies, SIGTERM stops gracefully.")

    @Option(help: "Address to listen on (loopback by default).") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "Cells of vetted-query statistics kept in memory for repeated queries on unchanged data (0: none).")
    var statisticsCacheCells = 200_000
    @Option(help: "Failed authentications one client address may have per minute; beyond them its failures get 429, audited once a burst.")
    var authFailuresPerMinute = 20
    @Flag(help: "Mark the web console's session cookie Secure: set it when TLS terminates in front of serve.")
    var secureCookies = false
    @OptionGroup var options: BrokerOptions

    func validate() throws {
        guard statisticsCacheCells >= 0 else { throw ValidationError("--statistics-cache-cells must be 0 or more") }
        guard authFailuresPerMinute >= 1 else { throw ValidationError("--auth-failures-per-minute must be 1 or more") }
    }

    func run() async throws {
        var configuration = try await options.configuration()
        configuration.host = host
        configuration.port = port
        configuration.statisticsCacheCells = statisticsCacheCells
        configuration.authenticationLimits = .init(failures: authFailuresPerMinute, window: .seconds(60))
        configuration.console.secureCookies = secureCookies
        try await buildApplication(configuration, logger: .cli).runService()
    }
}
