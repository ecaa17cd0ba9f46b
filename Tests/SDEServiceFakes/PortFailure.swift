public import SDEService

/// What a fake port throws when told to fail: an error naming its service outcome, as the store's errors do through
/// ``ServiceFailure``.
///
/// ```swift
/// trail.failWrites(with: .auditUnavailable)
/// store.fail(.statement, with: PortFailure(.queryTimeout, "the statement timed out"))
/// ```
public struct PortFailure: ServiceFailure, Sendable, CustomStringConvertible {
    /// The outcome it means for the caller.
    public let serviceCode: ServiceError.Code
    /// A message safe to show.
    public let message: String

    /// A failure meaning `code`.
    public init(_ code: ServiceError.Code, _ message: String = "a fake port was told to fail") {
        self.serviceCode = code
        self.message = message
    }

    /// The audit trail cannot be written.
    public static let auditUnavailable = PortFailure(.auditUnavailable, "the audit trail cannot be written")
    /// The database cannot be reached.
    public static let databaseUnavailable = PortFailure(.databaseUnavailable, "the database cannot be reached")
    /// A vetted query's statement ran past its timeout.
    public static let queryTimeout = PortFailure(.queryTimeout, "the statement ran past its timeout")

    /// `code: message`.
    public var description: String { "\(serviceCode): \(message)" }
}
