import Foundation
import Hummingbird
import SDEHTTP

/// The fields of a submitted form (`application/x-www-form-urlencoded`), or of a query string: each name once.
struct FormFields: Sendable {
    let values: [String: String]

    init(values: [String: String]) {
        self.values = values
    }

    /// The fields of `text` (`a=1&b=x+y`); a name given twice or a field that does not decode is refused.
    init(encoded text: Substring) throws(ConsoleError) {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : ""), values[name] == nil else {
                throw .badForm
            }
            values[name] = value
        }
        self.values = values
    }

    /// The body of a form POST (at most the context's upload size).
    init(_ request: Request, context: BrokerContext) async throws {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else { throw ConsoleError.badForm }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        try self.init(encoded: Substring(String(buffer: body)))
    }

    /// The query string of `request`.
    init(query request: Request) throws(ConsoleError) {
        try self.init(encoded: Substring(request.uri.query ?? ""))
    }

    subscript(name: String) -> String? { values[name] }

    /// The fields with a value, other than `excluded` (a form's empty select means "not given").
    func given(excluding excluded: Set<String>) -> [String: String] {
        values.filter { !$0.value.isEmpty && !excluded.contains($0.key) }
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

extension String {
    /// Whether `self` equals `other`, in time that depends on their lengths only (for anti-forgery tokens).
    func constantTimeEquals(_ other: String) -> Bool {
        let a = Array(utf8), b = Array(other.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
