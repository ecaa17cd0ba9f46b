import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the API's JSON error shape (``APIError/init(_:)``, the one mapping); the type of anything
/// unexpected goes to the log at debug level only. A request no route matched, on a path some route serves with
/// another method, is 405 `method_not_allowed` with `Allow` naming the methods it accepts.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BrokerContext
    let logger: Logger
    /// Every route's method and path template.
    let routes: [(method: HTTPRequest.Method, path: String)]

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var mapped = APIError(error)
            // The router's own not-found (no route has this path and method); routes throw ``APIError`` instead.
            if let unmatched = error as? HTTPError, unmatched.status == .notFound {
                let allowed = routes.filter { Self.matches(template: $0.path, request.uri.path) }.map(\.method)
                if !allowed.isEmpty {
                    mapped = APIError(.methodNotAllowed, "method_not_allowed", "This route does not accept that method.", allow: allowed)
                }
            }
            if mapped.code == "internal_error" {
                logger.debug("request failed", metadata: ["sde.http.error": "\(String(reflecting: type(of: error)))"])
            }
            throw mapped
        }
    }

    /// Whether `path` is an instance of `template` (`{name}` matches one non-empty segment).
    static func matches(template: String, _ path: String) -> Bool {
        let parts = template.split(separator: "/", omittingEmptySubsequences: false)
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == segments.count else { return false }
        return zip(parts, segments).allSatisfy { part, segment in part.hasPrefix("{") ? !segment.isEmpty : part == segment }
    }
}
