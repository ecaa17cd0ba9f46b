public import Foundation

/// How the web console keeps its sessions.
///
/// ```swift
/// var settings = ConsoleSettings()
/// settings.secureCookies = true   // TLS terminates in front of `serve`
/// ```
public struct ConsoleSettings: Sendable {
    /// A session unused this long is over (30 minutes).
    public var idleTimeout: TimeInterval = 30 * 60
    /// A session is over this long after sign-in, used or not (8 hours).
    public var absoluteTimeout: TimeInterval = 8 * 60 * 60
    /// Whether the session cookie carries `Secure` (set it when the console is reached over TLS).
    public var secureCookies = false
    /// The most sessions held at once; beyond it the least recently used is dropped.
    public var maxSessions = 10_000
    /// The current time (tests move it).
    public var now: @Sendable () -> Date = { Date() }

    /// The defaults above.
    public init() {}
}
