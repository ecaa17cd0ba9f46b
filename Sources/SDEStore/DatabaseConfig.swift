import Foundation
package import PostgresNIO

/// Where the broker's PostgreSQL is and how to log in.
///
/// Comes from `DATABASE_URL` (`postgres://user:password@host:port/database`) or from the embedded cluster.
public struct DatabaseConfig: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    /// A configuration from its parts.
    public init(host: String, port: Int, username: String, password: String?, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `postgres://` or `postgresql://` URL. The message of a failure never repeats the URL (it may hold a password).
    public init(url: String) throws(StoreError) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw .invalidDatabaseURL("DATABASE_URL is not a postgres:// URL")
        }
        guard let host = parts.host, !host.isEmpty else { throw .invalidDatabaseURL("DATABASE_URL has no host") }
        guard let user = parts.user, !user.isEmpty else { throw .invalidDatabaseURL("DATABASE_URL has no user name") }
        let database = String(parts.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw .invalidDatabaseURL("DATABASE_URL names no database") }
        self.init(
            host: host, port: parts.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: parts.password.map { $0.removingPercentEncoding ?? $0 }, database: database
        )
    }

    /// The same server and login, another database.
    public func with(database: String) -> DatabaseConfig {
        var copy = self
        copy.database = database
        return copy
    }

    /// `host:port/database` as the user, without the password: safe to print.
    public var redacted: String { "\(username)@\(host):\(port)/\(database)" }

    /// The postgres-nio client configuration (TLS off: the embedded cluster listens on loopback only).
    package var clientConfiguration: PostgresClient.Configuration {
        var config = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: .disable)
        config.options.connectTimeout = .seconds(5)
        return config
    }
}
