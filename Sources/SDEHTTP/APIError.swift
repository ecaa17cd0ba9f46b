public import HTTPTypes
public import Hummingbird
import SDEAudit
import SDECommon
import SDEPolicy
import SDEService
import SDEStore

/// An error response: `{"error": {"code": "...", "message": "..."}}` with a stable code and a human message, and
/// the sequence number of the audit event that recorded the refusal (header `SDE-Audit-Sequence`) when there is one.
/// Messages never carry SQL, stack traces or record-level values.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// A stable machine-readable code, e.g. `unauthenticated`, `not_a_member`, `parameter_invalid`.
    public let code: String
    /// What went wrong and what to do about it.
    public let message: String
    /// The audit event that recorded this outcome.
    public let auditSequence: Int64?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, auditSequence: Int64? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.auditSequence = auditSequence
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let auditSequence { headers[.sdeAuditSequence] = String(auditSequence) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let body = JSONValue.object(["error": .object(["code": .string(code), "message": .string(message)])]).canonicalBytes
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension APIError {
    /// The response to a policy refusal. A missing role is `forbidden`; every other reason keeps its policy code.
    init(_ denial: AccessDenial, auditSequence: Int64?) {
        let status: HTTPResponse.Status
        switch denial.reason {
        case .unknownProject, .unknownQuery, .unknownRelease: status = .notFound
        case .parameterMissing, .parameterUnknown, .parameterInvalid: status = .unprocessableContent
        case .policyInvalid: status = .serviceUnavailable
        default: status = .forbidden
        }
        self.init(status, denial.reason == .wrongRole ? "forbidden" : denial.reason.rawValue, denial.message, auditSequence: auditSequence)
    }

    /// The response to an audited failure of an allowed query run.
    init(_ failure: QueryRunner.Failure) {
        let status: HTTPResponse.Status
        switch failure.code {
        case "query_timeout": status = .gatewayTimeout
        case "too_many_cells": status = .unprocessableContent
        case _ where failure.code.hasPrefix("disclosure_"): status = .unprocessableContent
        case _ where failure.code.hasPrefix("query_"): status = .unprocessableContent
        default: status = .serviceUnavailable
        }
        self.init(status, failure.code, failure.message, auditSequence: failure.event.sequence)
    }

    /// The response to a store failure outside a query run (token check, release or audit read).
    init(_ error: StoreError) {
        if error.code == .auditUnavailable {
            self.init(.serviceUnavailable, "audit_unavailable", "The audit trail cannot be written, so nothing is released; try again later.")
        } else if error.code == .queryTimeout {
            self.init(.gatewayTimeout, "query_timeout", "The database did not answer in time; try again later.")
        } else {
            self.init(.serviceUnavailable, "database_unavailable", "The database is unavailable; try again later.")
        }
    }

    static let policyInvalid = APIError(
        .serviceUnavailable, "policy_invalid", "The broker's policy set is invalid, so it serves nothing until an operator fixes and reloads it.")
}

extension HTTPField.Name {
    /// The sequence number of the audit event that recorded the request's outcome.
    static let sdeAuditSequence = HTTPField.Name("SDE-Audit-Sequence")!
    /// The hash of that audit event.
    static let sdeAuditHash = HTTPField.Name("SDE-Audit-Hash")!
}
