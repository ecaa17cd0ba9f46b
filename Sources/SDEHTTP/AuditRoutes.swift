import Hummingbird
import SDEAudit
import SDECommon
import SDEService

extension BrokerAPI {
    /// `GET /v1/audit` for IG officers: the most recent events matching `project`, `actor`, `action`, `outcome`,
    /// `since`, `until` (RFC 3339 or a date), at most `limit` (default 1000), oldest first, JSON or CSV. The search
    /// is itself audited, with the SHA-256 of what was sent.
    var auditRoutes: [Route] {
        [
            Route(.get, "/v1/audit", audit: AuditSubject(.auditRead)) { request, context in
                try request.checkQueryParameters(allowed: ["project", "actor", "action", "outcome", "since", "until", "limit", "format"])
                let format = try ResponseFormat(request)
                let caller = try context.requireCaller()
                let query = request.uri.queryParameters
                func text(_ name: String) -> String? { query[Substring(name)].map(String.init) }
                func time(_ name: String) throws -> AuditTimestamp? {
                    guard let value = text(name) else { return nil }
                    guard let time = AuditTimestamp(parsing: value) else {
                        throw APIError(.unprocessableContent, "parameter_invalid", "\(name) must be an RFC 3339 time or a date (YYYY-MM-DD).")
                    }
                    return time
                }
                var outcome: AuditOutcome?
                if let value = text("outcome") {
                    guard let parsed = AuditOutcome(rawValue: value) else {
                        throw APIError(.unprocessableContent, "parameter_invalid", "outcome must be one of allowed, denied, error.")
                    }
                    outcome = parsed
                }
                var limit = 1000
                if let value = text("limit") {
                    guard let parsed = Int(value), (1...APIRequestLimits.maxAuditEvents).contains(parsed) else {
                        throw APIError(.unprocessableContent, "parameter_invalid", "limit must be a whole number from 1 to \(APIRequestLimits.maxAuditEvents).")
                    }
                    limit = parsed
                }
                let filter = AuditFilter(
                    project: text("project"), actor: text("actor"), action: text("action").map(AuditAction.init(rawValue:)), outcome: outcome,
                    since: try time("since"), until: try time("until"))
                let (event, output) = try await broker.audit.search(caller, filter: filter, limit: limit, format: format == .csv ? .csv : .json)
                return Response.bytes(output, contentType: format.contentType, audit: event)
            }
        ]
    }
}
