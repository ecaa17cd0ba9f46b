import HTTPTypes
import Hummingbird
import SDEAudit
import SDECommon

/// How a table or listing is returned.
enum ResponseFormat: String {
    case json, csv

    /// `?format=json|csv` wins; otherwise `Accept: text/csv` asks for CSV; JSON by default.
    init(_ request: Request) throws {
        if let asked = request.uri.queryParameters["format"] {
            guard let format = ResponseFormat(rawValue: String(asked)) else {
                throw APIError(.badRequest, "format_invalid", "format must be json or csv.")
            }
            self = format
        } else if let accept = request.headers[.accept], accept.contains("text/csv") {
            self = .csv
        } else {
            self = .json
        }
    }

    var contentType: String { self == .csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8" }
}

extension Response {
    /// A response with `bytes` of `contentType`.
    static func bytes(_ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok, audit: AuditEvent? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        if let audit {
            headers[.sdeAuditSequence] = String(audit.sequence)
            headers[.sdeAuditHash] = audit.hash.hex
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A canonical JSON response.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, audit: AuditEvent? = nil) -> Response {
        bytes(value.canonicalBytes, contentType: ResponseFormat.json.contentType, status: status, audit: audit)
    }
}

extension Request {
    /// Refuses query-string parameters other than `allowed`: a misspelt filter must not silently widen a result.
    func checkQueryParameters(allowed: Set<String>) throws {
        for (name, _) in uri.queryParameters where !allowed.contains(String(name)) {
            throw APIError(
                .badRequest, "query_parameter_unknown",
                "Unknown query parameter; this route accepts: \(allowed.isEmpty ? "none" : allowed.sorted().joined(separator: ", ")).")
        }
    }
}
