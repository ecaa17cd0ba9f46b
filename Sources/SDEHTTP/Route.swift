import HTTPTypes
import Hummingbird

/// One route of the API: method, path template (OpenAPI form, `{name}` for a path parameter) and handler.
///
/// The API keeps its routes as a list, so what the router serves and what `openapi.yaml` documents can be compared.
struct Route: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let handler: @Sendable (Request, BrokerContext) async throws -> Response

    init(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, BrokerContext) async throws -> Response) {
        self.method = method
        self.path = path
        self.handler = handler
    }

    /// Whether the route needs a bearer token (everything under `/v1`).
    var authenticated: Bool { path.hasPrefix("/v1/") }
}
