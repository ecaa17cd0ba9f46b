import ArgumentParser
import Foundation
import SDECommon
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A researcher's client of a running broker's HTTP API (`query run --server`): the token goes in the Authorization
/// header only, and the broker's error (code, message, audit event) is shown as it sent it.
struct APIClient {
    let base: URL
    let token: String

    /// A client of the broker at `base` (an http or https URL).
    init(base: String, token: String) throws {
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ValidationError("--server must be an http:// or https:// URL, e.g. http://127.0.0.1:8080")
        }
        self.base = url
        self.token = token
    }

    /// `POST /v1/projects/{project}/queries/{query}/runs`: the table as JSON (with its audit reference) or CSV.
    func run(project: String, query: String, parameters: [String: String], csv: Bool) async throws -> String {
        var components = URLComponents(url: base, resolvingAgainstBaseURL: false)!
        components.path = "/v1/projects/\(try Self.segment(project))/queries/\(try Self.segment(query))/runs"
        components.queryItems = [URLQueryItem(name: "format", value: csv ? "csv" : "json")]
        var request = URLRequest(url: components.url!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["parameters": parameters], options: [.sortedKeys])
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw ValidationError("no HTTP response from \(base)") }
        let body = String(decoding: data, as: UTF8.self)
        guard http.statusCode == 200 else {
            let audit = http.value(forHTTPHeaderField: "SDE-Audit-Sequence").map { "audit event #\($0)\n" } ?? ""
            FileHandle.standardError.write(Data("HTTP \(http.statusCode): \(body)\n\(audit)".utf8))
            throw ExitCode(http.statusCode == 401 || http.statusCode == 403 || http.statusCode == 404 || http.statusCode == 422 ? 2 : 1)
        }
        return csv ? body : body + "\n"
    }

    /// A path segment: project and query ids are plain identifiers, so anything else is refused here.
    private static func segment(_ id: String) throws -> String {
        guard Identifier.isName(id) else {
            throw ValidationError("'\(id)' is not a project or query id")
        }
        return id
    }
}
