import Hummingbird
import Logging

/// Turns every error into the API's JSON error shape (``APIError/init(_:)``, the one mapping); the type of anything
/// unexpected goes to the log at debug level only.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BrokerContext
    let logger: Logger

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let mapped = APIError(error)
            if mapped.code == "internal_error" {
                logger.debug("request failed", metadata: ["sde.http.error": "\(String(reflecting: type(of: error)))"])
            }
            throw mapped
        }
    }
}
