import Hummingbird
import Logging
import SDEStore

/// Turns every error into the API's JSON error shape: Hummingbird's own (unknown route, body too large) get a stable
/// code, and anything unexpected becomes `internal_error` with its details in the log at debug level only.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BrokerContext
    let logger: Logger

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as StoreError {
            throw APIError(error)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own: no route, wrong method, body over the limit (NIOTooManyBytesError), unreadable request.
            switch error.status {
            case .notFound: throw APIError(.notFound, "not_found", "There is no such route; see openapi.yaml.")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "method_not_allowed", "This route does not accept \(request.method).")
            case .contentTooLarge:
                throw APIError(.contentTooLarge, "body_too_large", "The request body is larger than \(APIRequestLimits.maxBodyBytes) bytes.")
            case .badRequest: throw APIError(.badRequest, "bad_request", "The request could not be read.")
            default: throw APIError(error.status, "http_error", "The request could not be served.")
            }
        } catch {
            logger.debug("request failed", metadata: ["sde.http.error": "\(String(reflecting: type(of: error)))"])
            throw APIError(.internalServerError, "internal_error", "The broker could not serve this request.")
        }
    }
}
