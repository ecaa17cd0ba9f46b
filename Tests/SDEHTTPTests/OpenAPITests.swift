import Foundation
import HTTPTypes
import HummingbirdTesting
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing
import Yams

@testable import SDEHTTP

/// `openapi.yaml` against the code: the routes it documents are exactly the routes served, and every error code the
/// API can send, derived from the code, is documented.
@Suite struct OpenAPITests {
    /// The repository's root (this file is `Tests/SDEHTTPTests/OpenAPITests.swift`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func document() throws -> String {
        try String(contentsOf: root.appending(path: "openapi.yaml"), encoding: .utf8)
    }

    @Test func theDocumentDescribesExactlyTheRoutesServedAndEachAnswers() async throws {
        let documented = OpenAPIRoutes.parse(try Self.document())
        try await API.test { client, fake in
            let served = BrokerAPI(broker: fake.broker, logger: API.logger).routeList
            #expect(Set(served).count == served.count, "no route is served twice")
            #expect(Set(documented.map(\.route)) == Set(served))
            // Every documented route answers (without a token: 401 under /v1), never "no such route".
            for entry in documented {
                let path = entry.path.replacingOccurrences(of: "{project}", with: "p1").replacingOccurrences(of: "{query}", with: "q1")
                    .replacingOccurrences(of: "{release}", with: "r1")
                let reply = try await client.send(HTTPRequest.Method(entry.method)!, path, body: entry.method == "POST" ? "{}" : nil)
                #expect(reply.errorCode != "not_found", "\(entry.route)")
                #expect(reply.status == (path.hasPrefix("/v1/") ? .unauthorized : .ok), "\(entry.route)")
            }
        }
    }

    @Test func aMethodTheDocumentDoesNotDeclareOnAKnownPathIs405WithAllow() async throws {
        try await API.test { client, fake in
            let token = try await fake.token(for: "res")
            for (method, path, allow) in [
                (HTTPRequest.Method.trace, "/v1/releases", "GET"), (.delete, "/v1/me", "GET"), (.put, "/v1/projects/p1/queries/q1/runs", "POST"),
                (.head, "/healthz", "GET"), (.options, "/v1/releases/r1", "GET"),
            ] {
                let reply = try await client.send(method, path, token: token)
                #expect(reply.status == .methodNotAllowed, "\(method) \(path)")
                #expect(reply.errorCode == "method_not_allowed")
                #expect(reply.headers[.allow] == allow, "\(method) \(path)")
            }
            #expect(try await client.send(.get, "/v1/nowhere", token: token).status == .notFound)
        }
    }

    @Test func aReleaseVersionIsRefusedExactlyOutsideTheDocumentedRange() async throws {
        let document = try Self.document()
        #expect(document.contains("schema: {type: integer, minimum: 1, maximum: \(APIRequestLimits.maxReleaseVersion)}"))
        try await API.test { client, fake in
            let token = try await fake.token(for: "reg")
            for version in ["0", "-1", String(APIRequestLimits.maxReleaseVersion + 1), "1.5"] {
                #expect(try await client.send(.get, "/v1/releases/r1?version=\(version)", token: token).errorCode == "parameter_invalid", "\(version)")
            }
            for version in ["1", String(APIRequestLimits.maxReleaseVersion)] {
                #expect(try await client.send(.get, "/v1/releases/r1?version=\(version)", token: token).errorCode != "parameter_invalid", "\(version)")
            }
        }
    }

    @Test func everyErrorCodeTheAPICanSendIsDocumented() throws {
        let document = try Self.document()
        let (codes, families) = try Self.errorCodes()
        #expect(
            codes.isSuperset(of: [
                "unauthenticated", "forbidden", "not_a_member", "audit_unavailable", "body_too_large", "not_ready", "internal_error",
            ]))
        let words = Set(document.split { !("a"..."z").contains($0) && $0 != "_" }.map(String.init))
        let undocumented = codes.subtracting(words)
        #expect(undocumented.isEmpty, "undocumented error codes: \(undocumented.sorted().joined(separator: ", "))")
        #expect(families == ["disclosure_", "query_"], "the families of codes a ServiceError.Code interpolates")
        for family in families.sorted() {
            #expect(document.contains(family + "*"), "\(family)* is documented")
        }
    }

    /// Every error code the API can send, derived from the code: each policy refusal as ``APIError`` maps it, an
    /// unauthenticated caller as it maps that, every code ``ServiceError/Code`` spells out (`description`), and every
    /// code `Sources/SDEHTTP` writes into an `APIError`; plus the prefixes of the codes `ServiceError.Code` builds from
    /// another target's codes (`disclosure_`, `query_`).
    static func errorCodes() throws -> (codes: Set<String>, families: Set<String>) {
        var codes = Set(DenyReason.allCases.map { APIError(ServiceError(.denied($0), "")).code })
        codes.insert(APIError(ServiceError(.unauthenticated(.missing), "")).code)

        let serviceError = try String(contentsOf: root.appending(path: "Sources/SDEService/ServiceError.swift"), encoding: .utf8)
        let description = try #require(
            serviceError.firstMatch(of: #/public var description: String \{\n\s*switch base \{\n(?<cases>(?:.*\n)*?)\s*\}\n/#))
        let spelled = description.output.cases.matches(of: #/case \.\w+: "(?<code>[a-z_]+)"/#).map { String($0.output.code) }
        let constants = serviceError.matches(of: #/public static let \w+ = Code\(/#).count
        #expect(spelled.count == constants && constants > 0, "each constant code is spelled out once")
        codes.formUnion(spelled)
        let families = Set(description.output.cases.matches(of: #/"(?<prefix>[a-z]+_)\\\(/#).map { String($0.output.prefix) })

        let written = #/(?:APIError|self\.init)\(\s*[^,"()]+(?:\([^)]*\))?,\s*"(?<code>[a-z_]+)"/#
        let directory = root.appending(path: "Sources/SDEHTTP")
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
            let source = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
            codes.formUnion(source.matches(of: written).map { String($0.output.code) })
        }
        return (codes, families)
    }
}

/// The routes `openapi.yaml` documents.
enum OpenAPIRoutes {
    /// One documented operation.
    struct Entry {
        let method: String
        let path: String
        var route: String { "\(method) \(path)" }
    }

    /// Every operation under `paths`, sorted.
    static func parse(_ yaml: String) -> [Entry] {
        func keys(_ node: Any?) -> [String: Any] {
            ((node as? [AnyHashable: Any]) ?? [:]).reduce(into: [:]) { result, entry in
                if let key = entry.key as? String { result[key] = entry.value }
            }
        }
        let paths = keys(keys(try? Yams.load(yaml: yaml))["paths"])
        let methods = ["get", "post", "put", "patch", "delete"]
        return paths.flatMap { path, item in
            keys(item).keys.filter(methods.contains).map { Entry(method: $0.uppercased(), path: path) }
        }.sorted { $0.route < $1.route }
    }
}
