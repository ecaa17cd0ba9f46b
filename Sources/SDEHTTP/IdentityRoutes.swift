import Hummingbird
import SDECommon
import SDEPolicy
import SDEService

extension BrokerAPI {
    /// `GET /v1/me`: the caller's user id, name, organisation and roles, their projects with each one's state today,
    /// and the releases published to their organisation.
    var identityRoutes: [Route] {
        [
            Route(.get, "/v1/me", audit: AuditSubject(.identityRead)) { request, context in
                try request.checkQueryParameters(allowed: [])
                let identity = try await broker.identity.identity(try context.requireCaller())
                let user = identity.user
                var body: [String: JSONValue] = [
                    "user": .string(user.id), "name": .string(user.name), "organisation": .string(user.organisation),
                    "roles": .array(user.roles.sorted().map { .string($0.rawValue) }),
                    "projects": .array(identity.projects.map { PolicyDocuments.project($0.project, decision: $0.decision) }),
                    "releases": .array(identity.releases.map { .string($0) }),
                ]
                if let training = user.trainingExpires { body["training_expires"] = .string(training.description) }
                return Response.json(.object(body), audit: identity.event)
            }
        ]
    }
}
