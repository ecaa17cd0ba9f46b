public import Hummingbird
public import SDEService

/// The request context of every broker route: Hummingbird's core storage plus the caller, once authenticated.
public struct BrokerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller ``TokenAuthenticator`` authenticated; `nil` on the unauthenticated routes (health, metrics).
    public var caller: Caller?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.caller = nil
    }

    /// Request bodies are small JSON objects (a query's parameters); anything bigger is refused.
    public var maxUploadSize: Int { APIRequestLimits.maxBodyBytes }
}

/// Limits on what a request may carry.
public enum APIRequestLimits {
    /// The largest request body accepted, in bytes.
    public static let maxBodyBytes = 16 * 1024
    /// The most audit events one `GET /v1/audit` returns.
    public static let maxAuditEvents = 10_000
}

extension BrokerContext {
    /// The authenticated caller; every `/v1` route runs behind ``TokenAuthenticator``, so this never fails there.
    func requireCaller() throws -> Caller {
        guard let caller else { throw APIError(.unauthorized, "unauthenticated", "Send your API token as `Authorization: Bearer <token>`.") }
        return caller
    }
}
