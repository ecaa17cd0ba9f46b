import HTTPTypes
import Hummingbird
import SDEHTTP

/// Sets the console's security headers on every response it sends: a strict Content-Security-Policy (no script at all,
/// styles and images from the console only, forms posting back to it, never framed), no MIME sniffing, no referrer,
/// no caching.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = BrokerContext

    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: BrokerContext, next: (Request, BrokerContext) async throws -> Response) async throws -> Response {
        Self.apply(to: try await next(request, context))
    }

    /// `response` with the headers.
    static func apply(to response: Response) -> Response {
        var response = response
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension Response {
    /// An HTML page.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `303 See Other` to `location` (after a form, or to sign in).
    static func seeOther(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// A file to save as `filename`: exactly `bytes` (the API's bytes for the same request).
    static func download(_ bytes: [UInt8], contentType: String, filename: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType, .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
