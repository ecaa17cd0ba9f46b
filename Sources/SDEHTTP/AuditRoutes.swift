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
                let search = try AuditSearch { query[Substring($0)].map(String.init) }
                let (event, output) = try await broker.audit.search(caller, filter: search.filter, limit: search.limit, format: format == .csv ? .csv : .json)
                return Response.bytes(output, contentType: format.contentType, audit: event)
            }
        ]
    }
}
