import HTTPTypes
public import SDEAudit

/// An audit search as a query string asks for it (`GET /v1/audit`, and the web console's audit page): `project`,
/// `actor`, `action`, `outcome` (allowed, denied, error), `since` and `until` (RFC 3339 or a date) and `limit`
/// (1 to ``APIRequestLimits/maxAuditEvents``, 1000 by default).
public struct AuditSearch: Sendable {
    /// The events to match.
    public let filter: AuditFilter
    /// The most recent events to return.
    public let limit: Int

    /// The search `value(name)` describes; a value that does not parse is `parameter_invalid`.
    public init(_ value: (String) -> String?) throws(APIError) {
        func time(_ name: String) throws(APIError) -> AuditTimestamp? {
            guard let text = value(name) else { return nil }
            guard let time = AuditTimestamp(parsing: text) else {
                throw APIError(.unprocessableContent, "parameter_invalid", "\(name) must be an RFC 3339 time or a date (YYYY-MM-DD).")
            }
            return time
        }
        var outcome: AuditOutcome?
        if let text = value("outcome") {
            guard let parsed = AuditOutcome(rawValue: text) else {
                throw APIError(.unprocessableContent, "parameter_invalid", "outcome must be one of allowed, denied, error.")
            }
            outcome = parsed
        }
        var limit = 1000
        if let text = value("limit") {
            guard let parsed = Int(text), (1...APIRequestLimits.maxAuditEvents).contains(parsed) else {
                throw APIError(
                    .unprocessableContent, "parameter_invalid", "limit must be a whole number from 1 to \(APIRequestLimits.maxAuditEvents).")
            }
            limit = parsed
        }
        self.limit = limit
        filter = AuditFilter(
            project: value("project"), actor: value("actor"), action: value("action").map(AuditAction.init(rawValue:)), outcome: outcome,
            since: try time("since"), until: try time("until"))
    }
}
