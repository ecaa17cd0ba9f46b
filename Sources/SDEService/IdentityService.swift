public import SDEAudit
public import SDECommon
public import SDEPolicy

/// What callers learn about themselves and their projects: `GET /v1/me` and a project's vetted queries.
public struct IdentityService: Sendable {
    let gate: AccessGate

    /// A service through `gate`.
    public init(gate: AccessGate) {
        self.gate = gate
    }

    /// The caller's user entry, their projects with today's decision on each, and the releases they may read.
    public func identity(_ caller: Caller) async throws -> Identity {
        let access = try await gate.authorize(caller, .readIdentity, AuditSubject(.identityRead))
        let policy = access.policy, user = access.grant.user
        let projects = policy.projects.values.filter { $0.members.contains(user.id) }.sorted { $0.id < $1.id }.map {
            ($0, policy.decide(user: user.id, action: .describeProject(project: $0.id), now: access.today))
        }
        let releases = policy.releases.keys.sorted().filter {
            policy.decide(user: user.id, action: .readRelease(release: $0), now: access.today).grant != nil
        }
        let event = try await gate.recordAllowed(access)
        return Identity(user: user, projects: projects, releases: releases, event: event)
    }

    /// Every project of the policy set with the reason nobody can use it today (`nil` when it is open), for IG officers.
    public func allProjects(_ caller: Caller) async throws -> ProjectOverview {
        let access = try await gate.authorize(caller, .readIdentity, AuditSubject(.projectList))
        guard access.grant.user.has(.igOfficer) else {
            throw try await gate.refuse(access, AccessDenial(.wrongRole, "Listing every project needs the ig_officer role."))
        }
        let projects = access.policy.projects.values.sorted { $0.id < $1.id }.map { ($0, $0.refusal(now: access.today)) }
        return ProjectOverview(projects: projects, today: access.today, event: try await gate.recordAllowed(access))
    }

    /// A project the caller is a member of, with its policy set (for its vetted queries).
    public func project(_ caller: Caller, id: String) async throws -> (project: Project, policy: PolicySet, event: AuditEvent) {
        let access = try await gate.authorize(caller, .describeProject(project: id), AuditSubject(.projectRead, project: id))
        guard let project = access.grant.project else { preconditionFailure("a describeProject grant always carries the project") }
        return (project, access.policy, try await gate.recordAllowed(access))
    }
}

/// Who the caller is, after the `identity.read` event committed.
public struct Identity: Sendable {
    /// The caller's user entry.
    public let user: User
    /// Their projects, each with today's decision on using it.
    public let projects: [(project: Project, decision: AccessDecision)]
    /// The releases they may read.
    public let releases: [String]
    /// The audit event.
    public let event: AuditEvent
}

/// Every project and its state today, after the `project.list` event committed.
public struct ProjectOverview: Sendable {
    /// Each project with the reason nobody can use it today, or `nil` when it is open.
    public let projects: [(project: Project, closed: AccessDenial?)]
    /// The day the states were decided on.
    public let today: CivilDate
    /// The audit event.
    public let event: AuditEvent
}

extension AuditAction {
    /// An IG officer listed every project and its state.
    public static let projectList: AuditAction = "project.list"
    /// A caller read who they are and which projects they belong to.
    public static let identityRead: AuditAction = "identity.read"
    /// A researcher listed a project's vetted queries.
    public static let projectRead: AuditAction = "project.read"
    /// A regulator listed the releases published to them.
    public static let releaseList: AuditAction = "release.list"
}
