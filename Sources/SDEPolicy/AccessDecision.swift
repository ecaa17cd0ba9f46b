public import SDECommon
public import SDEDisclosure

/// Something a user asks the broker to do.
public enum AccessAction: Sendable, Hashable {
    /// Run a project's vetted query with parameters (researchers).
    case runQuery(project: String, query: String, parameters: [String: String])
    /// See a project's details, vetted queries and their parameter schemas (researchers who are members).
    case describeProject(project: String)
    /// View a vetted query's specification, as `query show` does (IG officers and operators).
    case showQuery(query: String)
    /// Read or search the audit trail (IG officers).
    case readAudit
    /// Read a published release (regulators in its audience).
    case readRelease(release: String)
    /// Compute and publish a release (operators; its query must be approved).
    case publishRelease(release: String)
    /// Run an operation (operators).
    case operate(Operation)
    /// Read one's own identity, projects and releases (any active user).
    case readIdentity
}

/// Operational actions reserved to operators.
public enum Operation: String, Sendable, Hashable, CaseIterable {
    /// Start, stop and migrate the database.
    case database
    /// Load extracts.
    case ingest
    /// Issue and revoke API tokens.
    case tokens
}

/// The outcome of a decision: allow with what the caller needs, or deny with a reason.
public enum AccessDecision: Sendable {
    /// Allowed.
    case allow(AccessGrant)
    /// Refused.
    case deny(AccessDenial)

    /// The denial, when refused.
    public var denial: AccessDenial? {
        if case .deny(let denial) = self { return denial }
        return nil
    }

    /// The grant, when allowed.
    public var grant: AccessGrant? {
        if case .allow(let grant) = self { return grant }
        return nil
    }
}

/// What an allowed request may do.
public struct AccessGrant: Sendable {
    /// The authenticated user.
    public let user: User
    /// The action allowed.
    public let action: AccessAction
    /// The project, for project actions.
    public let project: Project?
    /// The release, for release actions.
    public let release: Release?
    /// The query to run, for ``AccessAction/runQuery(project:query:parameters:)`` and ``AccessAction/publishRelease(release:)``.
    public let run: AuthorizedQuery?
    /// The vetted query, for ``AccessAction/showQuery(query:)`` (and the query to run).
    public let query: VettedQuery?
    /// The digest of the policy set that allowed it (for the audit event).
    public let policyDigest: String
}

extension AccessGrant {
    /// The role the user acts in for the granted action, as the audit event records it (`nil` for reading one's own
    /// identity, which needs no role).
    public var role: Role? {
        switch action {
        case .runQuery, .describeProject: .researcher
        case .showQuery: user.has(.igOfficer) ? .igOfficer : .operator
        case .readAudit: .igOfficer
        case .readRelease: .regulator
        case .publishRelease, .operate: .operator
        case .readIdentity: nil
        }
    }
}

/// Everything the query compiler and disclosure control need to run one vetted query.
public struct AuthorizedQuery: Sendable {
    /// The vetted query.
    public let query: VettedQuery
    /// Its dataset.
    public let dataset: Dataset
    /// The checked, typed parameters (always including the period to filter on).
    public let parameters: CheckedParameters
    /// The disclosure profile id the rules derive from.
    public let profile: String
    /// The effective disclosure rules (project overrides applied).
    public let rules: DisclosureRules
    /// The reference code lists (local authorities and their regions), for the table's catalogue rows.
    public let reference: ReferenceCodes
}

/// A query's parameters after checking: typed, inside their domains, ready for the query compiler.
public struct CheckedParameters: Sendable, Hashable {
    /// The quarters to include: the dataset's period column must lie in `period.firstDay ... period.lastDay`. Always set:
    /// absent quarter parameters default to the project's data window (or the dataset coverage for releases).
    public let period: QuarterRange
    /// Filters from enumeration parameters, in the query's parameter order (each `.dimension(name, in: [value])`).
    public let filters: [QueryFilter]
    /// The supplied parameters by name, as given (for audit records and output headers).
    public let values: [String: String]
}

/// Why a request was refused: a stable code and a message the user can act on.
public struct AccessDenial: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable machine-readable reason.
    public let reason: DenyReason
    /// What happened and what to do about it.
    public let message: String

    /// Creates a denial.
    public init(_ reason: DenyReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// `reason: message`.
    public var description: String { "\(reason.rawValue): \(message)" }
}

/// Stable reason codes for refusals (used in HTTP errors and audit events; never renamed).
public enum DenyReason: String, Sendable, Hashable, CaseIterable {
    /// The broker's policy set is invalid: nothing is served until a valid set is loaded.
    case policyInvalid = "policy_invalid"
    /// No such user.
    case unknownUser = "unknown_user"
    /// The account is disabled.
    case userInactive = "user_inactive"
    /// The user's roles do not permit the action.
    case wrongRole = "wrong_role"
    /// Safe-researcher training has lapsed.
    case trainingExpired = "training_expired"
    /// No such project.
    case unknownProject = "unknown_project"
    /// The user is not a member of the project.
    case notAMember = "not_a_member"
    /// The project is proposed, not approved.
    case projectNotApproved = "project_not_approved"
    /// The project is marked approved but carries no signature.
    case projectUnsigned = "project_unsigned"
    /// The project's signature does not verify.
    case projectBadSignature = "project_bad_signature"
    /// The project is suspended.
    case projectSuspended = "project_suspended"
    /// The project is closed.
    case projectClosed = "project_closed"
    /// The project has not started yet.
    case projectNotStarted = "project_not_started"
    /// The project has expired.
    case projectExpired = "project_expired"
    /// No such vetted query.
    case unknownQuery = "unknown_query"
    /// The query is not one of the project's.
    case queryNotInProject = "query_not_in_project"
    /// The query is unsigned or its signature does not verify.
    case queryNotApproved = "query_not_approved"
    /// The query reads a dataset the project may not use.
    case datasetNotAllowed = "dataset_not_allowed"
    /// A required parameter is missing.
    case parameterMissing = "parameter_missing"
    /// A parameter the query does not take was supplied.
    case parameterUnknown = "parameter_unknown"
    /// A parameter has the wrong type or lies outside its domain.
    case parameterInvalid = "parameter_invalid"
    /// No such release.
    case unknownRelease = "unknown_release"
    /// The release is not addressed to the user's organisation.
    case notInAudience = "not_in_audience"
}

extension PolicySet {
    /// Decides whether `user` may perform `action` on day `now`: a pure function of the set and its arguments.
    ///
    /// Checks run in a fixed order (user, role, training, project, query, dataset, parameters) and the first failure
    /// is returned, so every refusal names one thing to fix.
    public func decide(user userID: String, action: AccessAction, now: CivilDate) -> AccessDecision {
        switch evaluate(user: userID, action: action, now: now) {
        case .success(let grant): .allow(grant)
        case .failure(let denial): .deny(denial)
        }
    }

    private func evaluate(user userID: String, action: AccessAction, now: CivilDate) -> Result<AccessGrant, AccessDenial> {
        guard let user = users[userID] else {
            return .failure(
                AccessDenial(
                    .unknownUser,
                    "There is no \(Identifier.mention(userID, as: "user")) registered with the broker; ask your IG officer to add you."))
        }
        guard user.active else {
            return .failure(AccessDenial(.userInactive, "The account '\(user.id)' is disabled; contact your IG officer."))
        }
        func grant(project: Project? = nil, release: Release? = nil, run: AuthorizedQuery? = nil, query: VettedQuery? = nil) -> AccessGrant {
            AccessGrant(user: user, action: action, project: project, release: release, run: run, query: query, policyDigest: digest)
        }
        switch action {
        case .runQuery(let projectID, let queryID, let raw):
            return researcherProject(user, projectID, now: now).flatMap { project in
                projectQuery(project, queryID).flatMap { query, dataset in
                    ParameterCheck.check(raw, query: query, dataset: dataset, window: project.dataWindow, reference: reference).map {
                        let run = AuthorizedQuery(
                            query: query, dataset: dataset, parameters: $0, profile: project.disclosure.profile, rules: project.disclosure.rules,
                            reference: reference)
                        return grant(project: project, run: run, query: query)
                    }
                }
            }
        case .describeProject(let projectID):
            return researcherProject(user, projectID, now: now).map { grant(project: $0) }
        case .showQuery(let queryID):
            guard user.has(.igOfficer) || user.has(.operator) else {
                return .failure(wrongRole(user, "Viewing a vetted query's specification needs the ig_officer or operator role"))
            }
            guard let query = queries[queryID] else { return .failure(unknownQuery(queryID)) }
            return .success(grant(query: query))
        case .readAudit:
            guard user.has(.igOfficer) else { return .failure(wrongRole(user, "Reading the audit trail needs the ig_officer role")) }
            return .success(grant())
        case .readRelease(let releaseID):
            guard user.has(.regulator) else { return .failure(wrongRole(user, "Reading releases needs the regulator role")) }
            guard let release = releases[releaseID] else { return .failure(unknownRelease(releaseID)) }
            guard release.audience.contains(user.organisation) else {
                return .failure(
                    AccessDenial(
                        .notInAudience,
                        "Release '\(release.id)' is published to \(release.audience.joined(separator: ", ")), not to '\(user.organisation)'."))
            }
            return .success(grant(release: release))
        case .publishRelease(let releaseID):
            guard user.has(.operator) else { return .failure(wrongRole(user, "Publishing releases needs the operator role")) }
            guard let release = releases[releaseID] else { return .failure(unknownRelease(releaseID)) }
            guard let query = queries[release.query], let dataset = datasets[query.dataset] else { return .failure(unknownQuery(release.query)) }
            guard query.approvalStatus.isApproved else { return .failure(queryNotApproved(query)) }
            let run = AuthorizedQuery(
                query: query, dataset: dataset, parameters: release.parameters, profile: release.profile, rules: release.rules, reference: reference)
            return .success(grant(release: release, run: run, query: query))
        case .operate(let operation):
            guard user.has(.operator) else {
                return .failure(wrongRole(user, "The \(operation.rawValue) operation needs the operator role"))
            }
            return .success(grant())
        case .readIdentity:
            return .success(grant())
        }
    }

    /// Checks `raw` parameters of `query` against its dataset's whole coverage (no project's data window applies), as
    /// `query show` does for a query seen outside any project.
    public func checkParameters(_ raw: [String: String], of query: VettedQuery) -> Result<CheckedParameters, AccessDenial> {
        guard let dataset = datasets[query.dataset] else { return .failure(unknownQuery(query.id)) }
        return ParameterCheck.check(raw, query: query, dataset: dataset, window: dataset.coverage, reference: reference)
    }

    /// A project `user` may use now as a researcher: role, training, membership, approval, signature, dates.
    private func researcherProject(_ user: User, _ projectID: String, now: CivilDate) -> Result<Project, AccessDenial> {
        guard user.has(.researcher) else { return .failure(wrongRole(user, "Project data is available to researchers only")) }
        guard let training = user.trainingExpires, now <= training else {
            let when = user.trainingExpires.map { " on \($0)" } ?? ""
            return .failure(
                AccessDenial(
                    .trainingExpired,
                    "Your safe-researcher training expired\(when); complete the refresher course and ask your IG officer to record "
                        + "the new expiry date."
                ))
        }
        guard let project = projects[projectID] else {
            return .failure(AccessDenial(.unknownProject, "There is no \(Identifier.mention(projectID, as: "project")); check the project id."))
        }
        guard project.members.contains(user.id) else {
            return .failure(
                AccessDenial(.notAMember, "You are not a member of project \(project.id); ask your IG officer to add you to the project."))
        }
        if let refusal = project.refusal(now: now) { return .failure(refusal) }
        return .success(project)
    }

    /// The query and dataset `project` may run: known, listed, approved, on an allowed dataset.
    private func projectQuery(_ project: Project, _ queryID: String) -> Result<(VettedQuery, Dataset), AccessDenial> {
        guard let query = queries[queryID] else {
            return .failure(
                AccessDenial(
                    .unknownQuery,
                    "There is no \(Identifier.mention(queryID, as: "vetted query")); project \(project.id) may run: "
                        + "\(project.queries.joined(separator: ", "))."))
        }
        guard project.queries.contains(query.id) else {
            return .failure(
                AccessDenial(
                    .queryNotInProject,
                    "Query \(query.id) is not approved for project \(project.id), which may run: "
                        + "\(project.queries.joined(separator: ", ")). Ask your IG officer to add it."
                ))
        }
        guard query.approvalStatus.isApproved else { return .failure(queryNotApproved(query)) }
        guard project.datasets.contains(query.dataset), let dataset = datasets[query.dataset] else {
            return .failure(
                AccessDenial(
                    .datasetNotAllowed,
                    "Query \(query.id) reads dataset \(query.dataset), which project \(project.id) may not use "
                        + "(it may use \(project.datasets.joined(separator: ", ")))."
                ))
        }
        return .success((query, dataset))
    }

    private func wrongRole(_ user: User, _ need: String) -> AccessDenial {
        let roles = user.roles.sorted().map(\.rawValue).joined(separator: ", ")
        return AccessDenial(.wrongRole, "\(need); '\(user.id)' has role \(roles.isEmpty ? "none" : roles).")
    }

    private func unknownQuery(_ id: String) -> AccessDenial {
        AccessDenial(.unknownQuery, "There is no \(Identifier.mention(id, as: "vetted query")).")
    }

    private func unknownRelease(_ id: String) -> AccessDenial {
        AccessDenial(.unknownRelease, "There is no \(Identifier.mention(id, as: "release")).")
    }

    private func queryNotApproved(_ query: VettedQuery) -> AccessDenial {
        AccessDenial(
            .queryNotApproved, "Vetted query \(query.id) is not approved (\(query.approvalStatus)); ask an IG officer to review and sign it.")
    }
}

/// Checks raw string parameters against a query's declared parameters.
enum ParameterCheck {
    static func check(
        _ raw: [String: String], query: VettedQuery, dataset: Dataset, window: QuarterRange, reference: ReferenceCodes
    ) -> Result<CheckedParameters, AccessDenial> {
        let names = query.parameters.map(\.name)
        if let unknown = raw.keys.sorted().first(where: { !names.contains($0) }) {
            let takes = names.isEmpty ? "takes no parameters" : "takes: \(names.joined(separator: ", "))"
            // The name is the caller's own text: repeated only when it is a plain identifier.
            let named = Identifier.isName(unknown)
            return .failure(AccessDenial(.parameterUnknown, "Query \(query.id) has no parameter\(named ? " '\(unknown)'" : " of that name"); it \(takes)."))
        }
        if let missing = query.parameters.first(where: { $0.required && raw[$0.name] == nil }) {
            return .failure(AccessDenial(.parameterMissing, "Parameter '\(missing.name)' is required: \(domain(of: missing, dataset, window))."))
        }
        var from = window.from
        var to = window.to
        var filters: [QueryFilter] = []
        for parameter in query.parameters {
            guard let value = raw[parameter.name] else { continue }
            func invalid(_ problem: String) -> Result<CheckedParameters, AccessDenial> {
                .failure(
                    AccessDenial(.parameterInvalid, "Parameter '\(parameter.name)': \(problem); expected \(domain(of: parameter, dataset, window))."))
            }
            switch parameter.kind {
            case .quarter(let bound):
                guard let quarter = Quarter(parsing: value) else { return invalid("the value is not a quarter") }
                guard window.contains(quarter) else { return invalid("\(quarter) is outside the data window") }
                if bound == .from { from = quarter } else { to = quarter }
            case .enumeration(let dimensionName, let allowed):
                guard let dimension = dataset.dimension(named: dimensionName) else {
                    return invalid("the dataset has no dimension '\(dimensionName)'")
                }
                let ok = allowed.map { $0.contains(value) } ?? reference.allows(value, in: dimension.values)
                guard ok else { return invalid("the value is not allowed") }
                filters.append(.dimension(dimensionName, in: [value]))
            }
        }
        guard let period = QuarterRange(from: from, to: to) else {
            return .failure(AccessDenial(.parameterInvalid, "The first quarter (\(from)) is after the last quarter (\(to)); swap them."))
        }
        return .success(CheckedParameters(period: period, filters: filters, values: raw))
    }

    /// The parameter's domain in words, for messages.
    static func domain(of parameter: QueryParameter, _ dataset: Dataset, _ window: QuarterRange) -> String {
        switch parameter.kind {
        case .quarter(let bound):
            let which = bound == .from ? "first" : "last"
            return "the \(which) quarter to include, written YYYYQn, from \(window.from) to \(window.to)"
        case .enumeration(let dimensionName, let allowed):
            if let allowed { return "one of \(allowed.joined(separator: ", "))" }
            switch dataset.dimension(named: dimensionName)?.values {
            case .listed(let values): return "one of \(values.joined(separator: ", "))"
            case .reference(.localAuthorities): return "a local authority code (e.g. E06000001) from Sql/local_authorities.csv"
            case .reference(.regions): return "a region code (e.g. E12000001) from Sql/local_authorities.csv"
            case .quarters, nil: return "a value of \(dimensionName)"
            }
        }
    }
}

extension Project {
    /// Why nobody can use the project on day `now` (status, signature, dates, in that order), or nil when it is open.
    public func refusal(now: CivilDate) -> AccessDenial? {
        switch status {
        case .proposed:
            return AccessDenial(
                .projectNotApproved,
                "Project \(id) is proposed and not yet approved by the IG team; no data is available until it is approved and signed.")
        case .suspended:
            return AccessDenial(.projectSuspended, "Project \(id) is suspended by the IG team; contact your IG officer.")
        case .closed:
            return AccessDenial(.projectClosed, "Project \(id) is closed; a new project application is needed for further work.")
        case .approved:
            break
        }
        switch approvalStatus {
        case .approved:
            break
        case .unsigned:
            return AccessDenial(.projectUnsigned, "Project \(id) has no IG signature; ask an IG officer to sign its approval.")
        case .void(let reason):
            return AccessDenial(
                .projectBadSignature, "The approval of project \(id) is void (\(reason)); ask an IG officer to review and re-sign it.")
        }
        if now < start { return AccessDenial(.projectNotStarted, "Project \(id) starts on \(start); access opens then.") }
        if now > expiry { return AccessDenial(.projectExpired, "Project \(id) expired on \(expiry); ask your IG officer about an extension.") }
        return nil
    }
}
