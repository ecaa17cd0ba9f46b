import Foundation
import Hummingbird
import SDEAudit
import SDECommon
import SDEPolicy
import SDEService

extension BrokerAPI {
    /// `GET /v1/projects/{project}/queries` (the project's vetted queries with parameter schemas) and
    /// `POST /v1/projects/{project}/queries/{query}/runs` with `{"parameters": {...}}` (the protected table, JSON or CSV).
    var queryRoutes: [Route] {
        [
            Route(.get, "/v1/projects/{project}/queries", audit: AuditSubject(.projectRead)) { request, context in
                try request.checkQueryParameters(allowed: [])
                let (project, policy, event) = try await broker.identity.project(try context.requireCaller(), id: try context.parameters.require("project"))
                let queries = project.queries.compactMap { policy.queries[$0] }.map {
                    PolicyDocuments.query($0, policy: policy, window: project.dataWindow)
                }
                return Response.json(.object(["project": .string(project.id), "queries": .array(queries)]), audit: event)
            },
            Route(.post, "/v1/projects/{project}/queries/{query}/runs", audit: AuditSubject(.queryRun, refusedAs: .queryDenied)) { request, context in
                try request.checkQueryParameters(allowed: ["format"])
                let format = try ResponseFormat(request)
                let caller = try context.requireCaller()
                let project = try context.parameters.require("project"), query = try context.parameters.require("query")
                let body = try await request.body.collect(upTo: context.maxUploadSize)
                let parameters = try RunRequest.parameters(from: Array(buffer: body))
                let table: ReleasedTable
                do {
                    table = try await broker.queries.run(caller, project: project, query: query, parameters: parameters)
                } catch let error as ServiceError {
                    metrics.queryRun(outcome: error.code.description)
                    throw error
                }
                metrics.queryRun(outcome: "released")
                let bytes = format == .csv ? Array(table.document.csv.utf8) : table.jsonWithAudit
                return Response.bytes(bytes, contentType: format.contentType, audit: table.event)
            },
        ]
    }
}

/// The body of a run request: exactly `{"parameters": {"NAME": "VALUE", ...}}`, string values only.
enum RunRequest {
    /// The parameters, or a `body_invalid` error naming what is wrong (never echoing values; a name only when it is a
    /// plain identifier).
    static func parameters(from body: [UInt8]) throws -> [String: String] {
        if body.isEmpty { return [:] }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw APIError(.badRequest, "body_invalid", "The request body is not valid JSON.")
        }
        guard let top = object as? [String: Any] else {
            throw APIError(.badRequest, "body_invalid", #"The request body must be a JSON object: {"parameters": {...}}."#)
        }
        if let unknown = top.keys.first(where: { $0 != "parameters" }) {
            let named = Identifier.isName(unknown) ? " '\(unknown)'" : ""
            throw APIError(.badRequest, "body_invalid", "Unknown field\(named) in the request body; only 'parameters' is accepted.")
        }
        guard let raw = top["parameters"] else { return [:] }
        guard let fields = raw as? [String: Any] else {
            throw APIError(.badRequest, "body_invalid", "'parameters' must be an object of names to string values.")
        }
        var parameters: [String: String] = [:]
        for (name, value) in fields {
            guard let text = value as? String else {
                let named = Identifier.isName(name) ? "Parameter '\(name)'" : "Each parameter"
                throw APIError(.unprocessableContent, "parameter_invalid", "\(named) must be a string, e.g. \"2023Q2\" or \"E06000001\".")
            }
            parameters[name] = text
        }
        return parameters
    }
}
