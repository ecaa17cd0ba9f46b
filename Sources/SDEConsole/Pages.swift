import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The console's Mustache templates and style sheet, from the target's resources. `{{name}}` escapes HTML, so
/// whatever a page shows (a project title, a reason, an actor) is text, never markup; no template uses `{{{ }}}`.
struct Pages: Sendable {
    /// Every template the console renders, each checked present at start.
    static let templates = ["layout", "sign-in", "home", "project", "table", "audit", "projects", "releases", "release", "error", "protected-table"]

    let library: MustacheLibrary
    /// The style sheet served at `/console/static/console.css`.
    let css: String

    init() async throws {
        guard let templates = Bundle.module.resourceURL?.appendingPathComponent("Templates").path,
            let css = Bundle.module.url(forResource: "console", withExtension: "css", subdirectory: "Static")
        else { throw ConsoleSetupError(missing: "Templates") }
        let library = try await MustacheLibrary(directory: templates)
        if let missing = Self.templates.first(where: { library.getTemplate(named: $0) == nil }) { throw ConsoleSetupError(missing: missing) }
        self.library = library
        self.css = try String(contentsOf: css, encoding: .utf8)
    }

    /// `template` rendered with `content` inside the layout, as an HTML response.
    func render(_ template: String, title: String, nav: Navigation?, status: HTTPResponse.Status = .ok, _ content: Any) -> Response {
        let page = Page(title: title, nav: nav, content: content)
        return .html(library.render(page, withTemplate: template) ?? "", status: status)
    }

    /// The console's error page: the status and a message, nothing else.
    func error(_ status: HTTPResponse.Status, _ message: String, nav: Navigation?) -> Response {
        render("error", title: status.reasonPhrase, nav: nav, status: status, ErrorView(status: status.code, message: message))
    }
}

/// What every page shows around its content.
struct Page {
    let title: String
    let nav: Navigation?
    let content: Any
}

/// The navigation of a signed-in user: their name, the sections of their roles, and the sign-out form's token.
struct Navigation: Sendable {
    let name: String
    let researcher: Bool
    let officer: Bool
    let regulator: Bool
    let csrf: String
}

struct ErrorView {
    let status: Int
    let message: String
}

/// The console's templates could not be loaded.
public struct ConsoleSetupError: Error, CustomStringConvertible {
    /// The resource missing or unreadable.
    public let missing: String

    public var description: String { "the web console's resource '\(missing)' is missing or does not parse" }
}
