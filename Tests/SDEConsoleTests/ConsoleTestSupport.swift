import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SDEConsole
import SDEHTTP
import SDEServiceFakes

/// The web console (beside the API, as `serve` mounts it) over fakes, served by HummingbirdTesting's router framework.
enum Console {
    static let logger = Logger(label: "sde.console.test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `test` with a client of the console over `fake` (a fresh ``FakeBroker`` when `nil`) with `settings`.
    static func test(
        _ fake: FakeBroker? = nil, settings: ConsoleSettings = ConsoleSettings(),
        _ test: @Sendable (any TestClientProtocol, FakeBroker) async throws -> Void
    ) async throws {
        let fake = try fake ?? FakeBroker()
        let router = BrokerAPI(broker: fake.broker, logger: logger).router()
        try await WebConsole(broker: fake.broker, settings: settings, logger: logger).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in try await test(client, fake) }
    }
}
