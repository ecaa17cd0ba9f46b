import Hummingbird
import SDEAudit
import SDECommon
import SDEPolicy

extension AuditAction {
    /// A caller read who they are and which projects they belong to.
    static let identityRead: AuditAction = "identity.read"
    /// A researcher listed a project's vetted queries.
    static let projectRead: AuditAction = "project.read"
    /// A regulator listed the releases published to them.
    static let releaseList: AuditAction = "release.list"
}

extension BrokerAPI {
    /// `GET /v1/me`: the caller's user id, name, organisation and roles, their projects with each one's state today,
    /// and the releases published to their organisation.
    var identityRoutes: [Route] {
        [
            Route(.get, "/v1/me") { request, context in
                try request.checkQueryParameters(allowed: [])
                let caller = try context.requireCaller()
                let policy = try await policy()
                guard let user = policy.users[caller.user], user.active else {
                    let reason: DenyReason = policy.users[caller.user] == nil ? .unknownUser : .userInactive
                    let event = try await audit(caller, role: nil, action: .identityRead, policy: policy, outcome: .denied, reason: reason.rawValue)
                    throw APIError(.forbidden, reason.rawValue, "This token's account is not active; contact your IG officer.", auditSequence: event.sequence)
                }
                let now = today()
                let projects = policy.projects.values.filter { $0.members.contains(user.id) }.sorted { $0.id < $1.id }.map {
                    PolicyDocuments.project($0, decision: policy.decide(user: user.id, action: .describeProject(project: $0.id), now: now))
                }
                let releases = policy.releases.keys.sorted().filter {
                    policy.decide(user: user.id, action: .readRelease(release: $0), now: now).grant != nil
                }
                var body: [String: JSONValue] = [
                    "user": .string(user.id), "name": .string(user.name), "organisation": .string(user.organisation),
                    "roles": .array(user.roles.sorted().map { .string($0.rawValue) }), "projects": .array(projects),
                    "releases": .array(releases.map { .string($0) }),
                ]
                if let training = user.trainingExpires { body["training_expires"] = .string(training.description) }
                let event = try await audit(caller, role: nil, action: .identityRead, policy: policy, outcome: .allowed)
                return Response.json(.object(body), audit: event)
            }
        ]
    }
}

extension BrokerContext {
    /// The authenticated caller; every `/v1` route runs behind ``TokenAuthenticator``, so this never fails there.
    func requireCaller() throws -> Caller {
        guard let caller else { throw APIError(.unauthorized, "unauthenticated", "Send your API token as `Authorization: Bearer <token>`.") }
        return caller
    }
}
