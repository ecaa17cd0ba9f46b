import Foundation
import HTTPTypes
import HummingbirdTesting
import SDEAudit
import SDEHTTP
import SDEService
import SDEServiceFakes
import Testing

/// Issue 13's smaller points over HTTP: a caller's text is never echoed raw in an error.
@Suite struct CallerTextEchoTests {
    static let hostile = ["E06000001'--'", "=WEBSERVICE(1)", "@SUM(1)", "-2+3"]

    static func message(_ reply: TestResponse) -> String { (reply.json["error"] as? [String: Any])?["message"] as? String ?? "" }

    @Test(arguments: hostile)
    func pathIdsAreRepeatedOnlyWhenPlain(_ text: String) async throws {
        try await API.test { client, fake in
            let researcher = try await fake.token(for: "res")
            let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
            for (uri, what) in [
                ("/v1/projects/\(encoded)/queries/q1/runs", "project"), ("/v1/projects/p1/queries/\(encoded)/runs", "vetted query"),
                ("/v1/projects/\(encoded)/queries", "project"),
            ] {
                let reply = try await client.send(uri.hasSuffix("runs") ? .post : .get, uri, token: researcher, body: uri.hasSuffix("runs") ? "{}" : nil)
                #expect(reply.status == .notFound, "\(uri)")
                #expect(!Self.message(reply).contains(text) && !Self.message(reply).contains(encoded), "\(Self.message(reply))")
                #expect(Self.message(reply).contains("\(what) named in the request"), "\(Self.message(reply))")
            }
            let release = try await client.send(.get, "/v1/releases/\(encoded)", token: try await fake.token(for: "reg"))
            #expect(release.status == .notFound && !Self.message(release).contains(text), "\(Self.message(release))")
        }
    }

    @Test(arguments: hostile)
    func bodyNamesAreRepeatedOnlyWhenPlain(_ text: String) async throws {
        try await API.test { client, fake in
            let token = try await fake.token(for: "res")
            let name = String(decoding: try JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]), as: UTF8.self).dropFirst().dropLast()
            for body in [#"{"parameters": {}, \#(name): 1}"#, #"{"parameters": {\#(name): 1}}"#, #"{"parameters": {\#(name): "1"}}"#] {
                let reply = try await client.send(.post, "/v1/projects/p1/queries/q1/runs", token: token, body: body)
                #expect([.badRequest, .unprocessableContent].contains(reply.status), "\(body)")
                #expect(!Self.message(reply).contains(text), "\(Self.message(reply))")
                #expect(!Self.message(reply).contains(text.filter { $0 != "'" }), "\(Self.message(reply))")
            }
        }
    }
}
