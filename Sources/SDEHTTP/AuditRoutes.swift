import Hummingbird
import SDEAudit
import SDECommon
import SDEPolicy
import SDEStore

extension BrokerAPI {
    /// `GET /v1/audit` for IG officers: the most recent events matching `project`, `actor`, `action`, `outcome`,
    /// `since`, `until` (RFC 3339 or a date), at most `limit` (default 1000), oldest first, JSON or CSV. The search
    /// is itself audited, with the SHA-256 of what was sent.
    var auditRoutes: [Route] {
        [
            Route(.get, "/v1/audit") { request, context in
                try request.checkQueryParameters(allowed: ["project", "actor", "action", "outcome", "since", "until", "limit", "format"])
                let format = try ResponseFormat(request)
                let caller = try context.requireCaller()
                let (_, policy) = try await authorize(caller, .readAudit, auditAs: .auditRead)
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
                let events = try await connections.withDatabase { db in try await AuditEvents.search(in: db, filter: filter, limit: limit) }
                let rendered = Array(AuditExporter.render(events, format: format == .csv ? .csv : .json).utf8)
                let (event, output) = try await releaseAudited(rendered) { digest in
                    try AuditEventDraft(
                        actor: caller.user, role: "ig_officer", action: .auditRead, policyDigest: AuditDigest(hex: policy.digest), outcome: .allowed,
                        outputDigest: digest)
                }
                return Response.bytes(output, contentType: format.contentType, audit: event)
            }
        ]
    }
}
