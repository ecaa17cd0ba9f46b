public import Hummingbird
import NIOCore
public import SDEService

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The request context of every broker route: Hummingbird's core storage, the client's address and the caller, once
/// authenticated.
public struct BrokerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller ``TokenAuthenticator`` authenticated; `nil` on the unauthenticated routes (health, metrics).
    public var caller: Caller?
    /// Whom failed authentications are counted against (``ClientAddress/key(_:)`` of the connection's peer).
    public let client: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.caller = nil
        self.client = ClientAddress.key(source.channel.remoteAddress)
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
    /// The largest release version a request may name (`openapi.yaml` says the same).
    public static let maxReleaseVersion = Int(Int32.max)
}

extension BrokerContext {
    /// The authenticated caller; every `/v1` route runs behind ``TokenAuthenticator``, so this never fails there.
    func requireCaller() throws -> Caller {
        guard let caller else { throw APIError(.unauthorized, "unauthenticated", "Send your API token as `Authorization: Bearer <token>`.") }
        return caller
    }
}

/// How a client is named for the limit on failed authentications: the TCP peer's address as the server sees it (never
/// a header such as `X-Forwarded-For`, which any client can write). An IPv6 client is its /64 network, the block one
/// subscriber is usually given, so that cycling through its own addresses does not escape the limit; an IPv4-mapped
/// IPv6 address is its IPv4 address.
public enum ClientAddress {
    /// The key of `address`: `203.0.113.7`, `2001:db8:1:2::/64`, `unix` for a Unix socket, `unknown` without one.
    public static func key(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        switch address {
        case .v4:
            return address.ipAddress ?? "unknown"
        case .v6:
            var bytes = [UInt8](repeating: 0, count: 16)
            guard let text = address.ipAddress, inet_pton(AF_INET6, text, &bytes) == 1 else { return "unknown" }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket:
            return "unix"
        }
    }
}
