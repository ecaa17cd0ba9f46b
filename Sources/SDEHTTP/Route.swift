import HTTPTypes
import Hummingbird
import SDEService

/// One route of the API: method, path template (OpenAPI form, `{name}` for a path parameter), what its audit events
/// are about (for `/v1` routes), and handler.
///
/// The API keeps its routes as a list, so what the router serves and what `openapi.yaml` documents can be compared.
struct Route: Sendable {
    let method: HTTPRequest.Method
    let path: String
    /// The action a refusal of this route is recorded under (`nil` for the unauthenticated routes).
    let audit: AuditSubject?
    let handler: @Sendable (Request, BrokerContext) async throws -> Response

    init(
        _ method: HTTPRequest.Method, _ path: String, audit: AuditSubject? = nil,
        _ handler: @escaping @Sendable (Request, BrokerContext) async throws -> Response
    ) {
        self.method = method
        self.path = path
        self.audit = audit
        self.handler = handler
    }

    /// Whether the route needs a bearer token (everything under `/v1`).
    var authenticated: Bool { path.hasPrefix("/v1/") }
}
