import HTTPTypes
public import Hummingbird
public import Logging
import Mustache
public import SDEHTTP
public import SDEService

/// The web console: server-rendered pages under `/console` for researchers, IG officers and regulators, over the same
/// services (and so the same gate, tokens and audit trail) as the HTTP API. Users sign in with their API token, which
/// becomes a server-side session (cookie `sde_console`); every form carries an anti-forgery token; no page has script.
///
/// ```swift
/// let router = BrokerAPI(broker: broker, logger: logger).router()
/// try await WebConsole(broker: broker, logger: logger).addRoutes(to: router)
/// ```
public struct WebConsole: Sendable {
    let broker: Broker
    let settings: ConsoleSettings
    let sessions: SessionStore
    let pages: Pages
    /// The console's logger (the type of an unexpected error only, at debug level; never values or tokens).
    let logger: Logger

    /// A console over `broker`'s services, its templates loaded from the target's resources.
    /// - Throws: ``ConsoleSetupError`` when a template is missing or does not parse.
    public init(broker: Broker, settings: ConsoleSettings = ConsoleSettings(), logger: Logger) async throws {
        self.broker = broker
        self.settings = settings
        self.sessions = SessionStore(settings: settings)
        self.pages = try await Pages()
        self.logger = logger
    }

    /// Adds the console's routes under `/console` to `router` (the API's), behind the console's security headers.
    public func addRoutes(to router: Router<BrokerContext>) {
        router.add(middleware: NotFoundPage(console: self))
        router.get("/") { _, _ in Response.seeOther(Paths.home) }
        let console = router.group("console").add(middleware: SecurityHeaders())
        console.get("static/console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: .init(string: pages.css)))
        }
        addSignInRoutes(to: console)
        addResearcherRoutes(to: console)
        addOfficerRoutes(to: console)
        addRegulatorRoutes(to: console)
    }
}

/// The console's own 404 page for any path under `/console` that no route serves (or not with that method): the same
/// page whatever was asked, so nothing of the request is repeated; it needs no session and records nothing.
struct NotFoundPage: RouterMiddleware {
    typealias Context = BrokerContext
    let console: WebConsole

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError where error.status == .notFound && Paths.isConsole(request.uri.path) {
            let page = console.pages.error(ConsoleError.notFound.status, ConsoleError.notFound.message, nav: await console.navigation(request))
            return SecurityHeaders.apply(to: page)
        }
    }
}

/// The console's paths.
enum Paths {
    static let home = "/console"
    static let signIn = "/console/sign-in"
    static let audit = "/console/audit"
    static func project(_ id: String) -> String { "/console/projects/\(id)" }
    static func run(_ project: String, _ query: String) -> String { "/console/projects/\(project)/queries/\(query)/runs" }
    static func release(_ id: String) -> String { "/console/releases/\(id)" }
    /// Whether `path` is the console's.
    static func isConsole(_ path: String) -> Bool { path == home || path.hasPrefix(home + "/") }
}
