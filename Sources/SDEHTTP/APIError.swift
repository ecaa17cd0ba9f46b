public import HTTPTypes
public import Hummingbird
import SDEAudit
import SDECommon
import SDEPolicy
import SDEService

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
    /// Seconds after which a refused client may try again (`Retry-After`), for `too_many_requests`.
    public let retryAfter: Int?
    /// The methods the path accepts (`Allow`), for `method_not_allowed`.
    public let allow: [HTTPRequest.Method]?

    public init(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, auditSequence: Int64? = nil, retryAfter: Int? = nil,
        allow: [HTTPRequest.Method]? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.auditSequence = auditSequence
        self.retryAfter = retryAfter
        self.allow = allow
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let auditSequence { headers[.sdeAuditSequence] = String(auditSequence) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let allow { headers[.allow] = allow.map(\.rawValue).joined(separator: ", ") }
        let body = JSONValue.object(["error": .object(["code": .string(code), "message": .string(message)])]).canonicalBytes
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension APIError {
    /// The one mapping from any error to the API's: an ``APIError`` as it is; a service outcome by its kind (a policy
    /// refusal keeps its reason as the code, except a missing role, which is `forbidden`); Hummingbird's own errors
    /// (no route, wrong method, body over the limit) by their status; anything else `internal_error`.
    public init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as ServiceError:
            self.init(error)
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: self.init(.notFound, "not_found", "There is no such route; see openapi.yaml.")
            case .methodNotAllowed: self.init(.methodNotAllowed, "method_not_allowed", "This route does not accept that method.")
            case .contentTooLarge: self.init(.contentTooLarge, "body_too_large", "The request body is larger than \(APIRequestLimits.maxBodyBytes) bytes.")
            case .badRequest: self.init(.badRequest, "bad_request", "The request could not be read.")
            default: self.init(error.status, "http_error", "The request could not be served.")
            }
        default:
            self.init(ServiceError(error))
        }
    }

    /// A service outcome with how long a refused client should wait (`Retry-After`).
    init(_ error: ServiceError, retryAfter: Int?) {
        let mapped = APIError(error)
        self.init(mapped.status, mapped.code, mapped.message, auditSequence: mapped.auditSequence, retryAfter: retryAfter)
    }

    private init(_ error: ServiceError) {
        let sequence = error.event?.sequence
        switch error.code.kind {
        case .refused(let reason):
            let status: HTTPResponse.Status =
                switch reason {
                case .unknownProject, .unknownQuery, .unknownRelease: .notFound
                case .parameterMissing, .parameterUnknown, .parameterInvalid: .unprocessableContent
                case .policyInvalid: .serviceUnavailable
                default: .forbidden
                }
            self.init(status, reason == .wrongRole ? "forbidden" : reason.rawValue, error.message, auditSequence: sequence)
        case .unauthenticated: self.init(.unauthorized, "unauthenticated", error.message, auditSequence: sequence)
        case .tooManyRequests: self.init(.tooManyRequests, error.code.description, error.message, auditSequence: sequence)
        case .notFound: self.init(.notFound, error.code.description, error.message, auditSequence: sequence)
        case .unprocessable: self.init(.unprocessableContent, error.code.description, error.message, auditSequence: sequence)
        case .timedOut: self.init(.gatewayTimeout, error.code.description, error.message, auditSequence: sequence)
        case .unavailable: self.init(.serviceUnavailable, error.code.description, error.message, auditSequence: sequence)
        case .internalError: self.init(.internalServerError, "internal_error", "The broker could not serve this request.", auditSequence: sequence)
        }
    }
}

extension HTTPField.Name {
    /// The sequence number of the audit event that recorded the request's outcome.
    static let sdeAuditSequence = HTTPField.Name("SDE-Audit-Sequence")!
    /// The hash of that audit event.
    static let sdeAuditHash = HTTPField.Name("SDE-Audit-Hash")!
}
