public import SDEAudit
public import SDECommon
public import SDEPolicy

/// What an audit event is about: the action recorded when allowed (or failed), the action a refusal is recorded under,
/// and the project and target named (names a caller typed are recorded only when they are plain identifiers).
public struct AuditSubject: Sendable {
    /// The action of an allowed or failed request.
    public let action: AuditAction
    /// The action of a refusal (e.g. `query.denied` for a refused `query.run`).
    public let refusedAs: AuditAction
    /// The project, if any.
    public let project: String?
    /// The target (query, release, token id), if any.
    public let target: String?

    /// A subject; refusals are recorded under `refusedAs`, or `action` when not given.
    public init(_ action: AuditAction, refusedAs: AuditAction? = nil, project: String? = nil, target: String? = nil) {
        self.action = action
        self.refusedAs = refusedAs ?? action
        self.project = project
        self.target = target
    }
}

/// The one audited gate every service goes through: decide (caller, action) under the policy in force, record a
/// refusal before throwing it, and record every allowed outcome (and every failure after access was granted) before
/// anything is handed back. Every audit draft of a request is made here, in ``draft(_:role:subject:outcome:reason:parameters:policyDigest:cells:outputDigest:)``.
///
/// ```swift
/// let access = try await gate.authorize(caller, .readAudit, AuditSubject(.auditRead))
/// let (event, bytes) = try await gate.recordOutput(rendered, of: access)
/// ```
public struct AccessGate: Sendable {
    /// The policy in force (reloaded on SIGHUP by the server).
    public let policies: PolicyRegistry
    /// The trail every outcome goes to.
    public let trail: any AuditRecording
    /// Today's date, for decisions and token expiry.
    public let today: @Sendable () -> CivilDate

    /// A gate over `policies` recording to `trail`.
    public init(policies: PolicyRegistry, trail: any AuditRecording, today: @escaping @Sendable () -> CivilDate = CivilDate.utcToday) {
        self.policies = policies
        self.trail = trail
        self.today = today
    }

    /// Decides `action` for `caller`. A refusal (including an invalid policy set) is recorded under the subject's
    /// refusal action, without the caller's parameters (they failed the checks and could hold anything), and thrown
    /// as a ``ServiceError`` carrying the event.
    public func authorize(_ caller: Caller, _ action: AccessAction, _ subject: AuditSubject) async throws -> Access {
        let state = await policies.state
        let now = today()
        switch state.decide(user: caller.user, action: action, now: now) {
        case .allow(let grant):
            guard let policy = state.policy else { preconditionFailure("only a valid policy set allows anything") }
            return Access(caller: caller, grant: grant, policy: policy, subject: subject, today: now)
        case .deny(let denial):
            let event = try await record(
                try Self.draft(
                    caller.user, role: nil, subject: subject, outcome: .denied, reason: denial.reason.rawValue, policyDigest: state.policy?.digest))
            throw ServiceError(denial, event: event)
        }
    }

    /// Records a refusal that happened after access was granted (e.g. a parameter the service checks itself), and
    /// returns it to throw.
    public func refuse(_ access: Access, _ denial: AccessDenial) async throws -> ServiceError {
        let event = try await record(
            try Self.draft(
                access.caller.user, role: access.grant.role, subject: access.subject, outcome: .denied, reason: denial.reason.rawValue,
                policyDigest: access.policy.digest))
        return ServiceError(denial, event: event)
    }

    /// Records a refusal (or, when `failed`, a failure) of a request by an authenticated caller that no decision
    /// covered: a body or query string the API could not accept. `reason` is its error code.
    @discardableResult
    public func recordRefusal(_ caller: Caller, _ subject: AuditSubject, reason: String, failed: Bool = false) async throws -> AuditEvent {
        let digest = await policies.state.policy?.digest
        return try await record(
            try Self.draft(caller.user, role: nil, subject: subject, outcome: failed ? .error : .denied, reason: reason, policyDigest: digest))
    }

    /// Records the allowed outcome of `access` (no output).
    @discardableResult
    public func recordAllowed(_ access: Access, parameters: [String: String] = [:]) async throws -> AuditEvent {
        try await record(try draft(access, outcome: .allowed, parameters: parameters))
    }

    /// Records the allowed outcome of `access` releasing `output`, and only then hands `output` back.
    public func recordOutput(
        _ output: [UInt8], of access: Access, parameters: [String: String] = [:], cells: AuditCellCounts = .none
    ) async throws -> (event: AuditEvent, output: [UInt8]) {
        do {
            return try await trail.recordOutput(output) { digest in
                try draft(access, outcome: .allowed, parameters: parameters, cells: cells, outputDigest: digest)
            }
        } catch {
            throw ServiceError(error)
        }
    }

    /// Runs `body` for `access`; any failure but an unavailable audit trail is recorded (outcome `error`, its code as
    /// the reason, with `parameters`) and thrown as a ``ServiceError`` carrying the event.
    public func auditingFailures<Result>(of access: Access, parameters: [String: String] = [:], _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            let failure = ServiceError(error)
            guard failure.code != .auditUnavailable, failure.event == nil else { throw failure }
            let event = try await record(try draft(access, outcome: .error, reason: failure.code.description, parameters: parameters))
            throw ServiceError(failure.code, failure.message, event: event)
        }
    }

    /// Records an event of a request no policy decision covers (a failed authentication, a policy reload), as `actor`.
    @discardableResult
    public func recordUnauthorized(
        actor: String, _ subject: AuditSubject, outcome: AuditOutcome, reason: String?, parameters: [String: String] = [:]
    ) async throws -> AuditEvent {
        let digest = await policies.state.policy?.digest
        return try await record(
            try Self.draft(actor, role: nil, subject: subject, outcome: outcome, reason: reason, parameters: parameters, policyDigest: digest))
    }

    /// Records an event about a policy set being put in force (or refused), as the broker, under `policyDigest` (the
    /// set's, which is not yet the one in force when the event is written).
    @discardableResult
    public func recordPolicyEvent(
        _ subject: AuditSubject, outcome: AuditOutcome, reason: String?, parameters: [String: String] = [:], policyDigest: String?
    ) async throws -> AuditEvent {
        try await record(
            try Self.draft(
                AuditEventDraft.brokerActor, role: nil, subject: subject, outcome: outcome, reason: reason, parameters: parameters,
                policyDigest: policyDigest))
    }

    /// Writes a signed checkpoint of the trail now (see ``AuditRecording/checkpoint()``); a trail that cannot be written
    /// is ``ServiceError/Code/auditUnavailable``.
    public func checkpoint() async throws -> AuditEvent {
        do {
            return try await trail.checkpoint()
        } catch {
            throw ServiceError(error)
        }
    }

    /// Records `draft`; a trail that cannot be written is ``ServiceError/Code/auditUnavailable``.
    private func record(_ draft: AuditEventDraft) async throws -> AuditEvent {
        do {
            return try await trail.record(draft)
        } catch {
            throw ServiceError(error)
        }
    }

    private func draft(
        _ access: Access, outcome: AuditOutcome, reason: String? = nil, parameters: [String: String] = [:], cells: AuditCellCounts = .none,
        outputDigest: AuditDigest? = nil
    ) throws -> AuditEventDraft {
        try Self.draft(
            access.caller.user, role: access.grant.role, subject: access.subject, outcome: outcome, reason: reason, parameters: parameters,
            policyDigest: access.grant.policyDigest, cells: cells, outputDigest: outputDigest)
    }

    /// The one audit draft factory of the services. A user, project or target a caller typed that is not a plain
    /// identifier is recorded as unknown (anonymous, or absent) rather than verbatim.
    static func draft(
        _ user: String, role: Role?, subject: AuditSubject, outcome: AuditOutcome, reason: String? = nil, parameters: [String: String] = [:],
        policyDigest: String?, cells: AuditCellCounts = .none, outputDigest: AuditDigest? = nil
    ) throws -> AuditEventDraft {
        try AuditEventDraft(
            actor: AuditEventDraft.identifier(user) ?? AuditEventDraft.anonymousActor, role: role?.rawValue,
            project: subject.project.flatMap(AuditEventDraft.identifier), action: outcome == .denied ? subject.refusedAs : subject.action,
            target: subject.target.flatMap(AuditEventDraft.identifier), parameters: parameters, policyDigest: policyDigest.flatMap(AuditDigest.init(hex:)),
            outcome: outcome, reason: reason, cells: cells, outputDigest: outputDigest)
    }
}

/// An allowed request: who, what the policy granted, the policy set that granted it, and what its audit events are about.
public struct Access: Sendable {
    /// The caller.
    public let caller: Caller
    /// What the policy allowed.
    public let grant: AccessGrant
    /// The policy set in force when it was decided.
    public let policy: PolicySet
    /// What its audit events are about.
    public let subject: AuditSubject
    /// The day it was decided on.
    public let today: CivilDate

    /// The same access, its later events naming `target` (e.g. a token id known only once issued).
    public func naming(target: String) -> Access {
        Access(
            caller: caller, grant: grant, policy: policy,
            subject: AuditSubject(subject.action, refusedAs: subject.refusedAs, project: subject.project, target: target), today: today)
    }
}
