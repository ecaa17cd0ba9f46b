public import SDEAudit
public import SDECommon
import SDEPolicy

/// API tokens: who a caller is (``authenticate(bearer:)``) and, for operators, issuing, revoking and listing tokens.
/// Every failed authentication and every issue and revocation is audited; a token's secret is never logged or recorded.
public struct TokenService: Sendable {
    let gate: AccessGate
    let repository: any TokenRepository
    /// The per-client limit on failed authentications, if any (the HTTP API has one; the command line does not).
    public let limiter: AuthenticationLimiter?

    /// A service through `gate` over `repository`, limiting each client's failed authentications with `limiter`.
    public init(gate: AccessGate, repository: any TokenRepository, limiter: AuthenticationLimiter? = nil) {
        self.gate = gate
        self.repository = repository
        self.limiter = limiter
    }

    /// The caller a presented token authenticates, or an audited `unauthenticated` refusal (`auth.failed`, actor
    /// `anonymous`, the rejection as its reason).
    ///
    /// With a ``limiter`` and the `client` the request came from, a client over its limit of failures is refused with
    /// `too_many_requests` instead, and only the first such refusal of a window is audited (`auth.failed`, reason
    /// `too_many_requests`, the client and the limit as parameters). A valid token is never refused for its client's
    /// failures.
    public func authenticate(token presented: String?, client: String? = nil) async throws -> Caller {
        let check: TokenCheck
        if let presented, !presented.isEmpty {
            do {
                check = try await repository.authenticate(presented, today: gate.today())
            } catch {
                // The token could not be checked (the database is down or slow): refused, and audited when possible.
                let failure = ServiceError(error)
                let event = try await gate.recordUnauthorized(
                    actor: AuditEventDraft.anonymousActor, AuditSubject(.authFailed), outcome: .error, reason: failure.code.description)
                throw ServiceError(failure.code, failure.message, event: event)
            }
        } else {
            check = .rejected(.missing)
        }
        switch check {
        case .valid(let user, let tokenID):
            return Caller(user: user, tokenID: tokenID)
        case .rejected(let rejection):
            throw try await reject(rejection, Self.message(rejection), client: client)
        }
    }

    /// The caller a `Bearer <token>` Authorization header authenticates (see ``authenticate(token:client:)``).
    public func authenticate(bearer header: String?, client: String? = nil) async throws -> Caller {
        guard let header else { return try await authenticate(token: nil, client: client) }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw try await reject(.malformed, "The Authorization header must be `Bearer <token>`.", client: client)
        }
        return try await authenticate(token: String(header.dropFirst(7)), client: client)
    }

    /// Records the refusal of a request that presented a web-console session the broker no longer holds (expired,
    /// signed out, or never issued): `auth.failed`, actor `anonymous`, reason `session_<why>`.
    public func refuseSession(_ why: SessionRejection) async throws {
        try await gate.recordUnauthorized(actor: AuditEventDraft.anonymousActor, AuditSubject(.authFailed), outcome: .denied, reason: "session_\(why.rawValue)")
    }

    /// Records that `caller` signed out of a web-console session (`session.end`).
    public func endSession(_ caller: Caller) async throws {
        try await gate.recordAllowed(try await gate.authorize(caller, .readIdentity, AuditSubject(.sessionEnd)))
    }

    /// The refusal of a failed authentication, audited: as `unauthenticated`, or, for a client over its limit,
    /// `too_many_requests` (audited once per burst).
    private func reject(_ rejection: TokenRejection, _ message: String, client: String?) async throws -> ServiceError {
        if let limiter, let client, case .limited(let first, let retryAfter) = limiter.recordFailure(from: client) {
            let seconds = AuthenticationLimiter.wholeSeconds(retryAfter)
            var event: AuditEvent?
            if first {
                event = try await gate.recordUnauthorized(
                    actor: AuditEventDraft.anonymousActor, AuditSubject(.authFailed), outcome: .denied,
                    reason: ServiceError.Code.tooManyRequests.description,
                    parameters: [
                        "client": client, "failures": String(limiter.limits.failures), "window_seconds": String(limiter.limits.windowSeconds),
                    ])
            }
            return ServiceError(
                .tooManyRequests,
                "Too many failed authentications from your address: further failures are refused for \(seconds) s. Check your token.",
                event: event)
        }
        let event = try await gate.recordUnauthorized(
            actor: AuditEventDraft.anonymousActor, AuditSubject(.authFailed), outcome: .denied, reason: "token_\(rejection.rawValue)")
        return ServiceError(.unauthenticated(rejection), message, event: event)
    }

    /// Issues a token for `user`, an active user of the policy set, valid to `expires` inclusive, for an operator.
    /// A token whose audit event cannot be written is revoked at once: no unaudited token stays usable.
    public func issue(_ caller: Caller, for user: String, expires: CivilDate) async throws -> IssuedToken {
        let access = try await gate.authorize(caller, .operate(.tokens), AuditSubject(.tokenIssued, target: user))
        guard expires >= access.today else {
            throw try await gate.refuse(access, AccessDenial(.parameterInvalid, "The expiry \(expires) is in the past (today is \(access.today))."))
        }
        return try await issue(for: user, expires: expires, access: access)
    }

    /// The first operator token of a broker: issued without a caller only while no operator of the policy set holds a
    /// usable token (a fresh database, or every operator token expired or revoked). Audited as `token.issued` by
    /// `sde-broker` with `bootstrap` set.
    public func bootstrap(operator user: String, expires: CivilDate) async throws -> IssuedToken {
        let subject = AuditSubject(.tokenIssued, target: user)
        func refuse(_ code: ServiceError.Code, _ message: String) async throws -> ServiceError {
            let event = try await gate.recordUnauthorized(actor: AuditEventDraft.brokerActor, subject, outcome: .denied, reason: code.description)
            return ServiceError(code, message, event: event)
        }
        guard let policy = await gate.policies.state.policy else {
            throw try await refuse(.denied(.policyInvalid), "The policy set is invalid: run `sde-broker policy check`.")
        }
        guard let entry = policy.users[user], entry.active, entry.has(.operator) else {
            throw try await refuse(.denied(.wrongRole), "There is no active \(Identifier.mention(user, as: "operator")) in the policy set.")
        }
        let today = gate.today()
        let operators = try await repository.list().filter { token in
            token.revoked == nil && token.expires >= today && policy.users[token.user]?.has(.operator) == true
        }
        guard operators.isEmpty else {
            throw try await refuse(.alreadyBootstrapped, "An operator already holds a token: ask them to issue yours (`sde-broker token issue`).")
        }
        let issued = try await repository.issue(user: user, expires: expires)
        do {
            try await gate.recordUnauthorized(
                actor: AuditEventDraft.brokerActor, AuditSubject(.tokenIssued, target: issued.id), outcome: .allowed, reason: nil,
                parameters: ["user": user, "expires": expires.description, "bootstrap": "true"])
        } catch {
            _ = try? await repository.revoke(id: issued.id)
            throw ServiceError(error)
        }
        return issued
    }

    /// Revokes token `id` for an operator; when no unrevoked token has that id, nothing changes and the failure
    /// (`token_not_found`) is recorded like any other.
    public func revoke(_ caller: Caller, id: String) async throws {
        let access = try await gate.authorize(caller, .operate(.tokens), AuditSubject(.tokenRevoked, target: id))
        guard Self.isTokenID(id) else {
            throw try await gate.refuse(access, AccessDenial(.parameterInvalid, "A token id is 16 lower-case hex digits, as `token list` shows."))
        }
        try await gate.auditingFailures(of: access) {
            guard try await repository.revoke(id: id) else {
                throw ServiceError(.tokenNotFound, "No unrevoked token has id \(id); nothing changed.")
            }
            try await gate.recordAllowed(access)
        }
    }

    /// Every token (never secrets), for an operator.
    public func list(_ caller: Caller) async throws -> [TokenRecord] {
        let access = try await gate.authorize(caller, .operate(.tokens), AuditSubject(.tokenList))
        return try await gate.auditingFailures(of: access) {
            let tokens = try await repository.list()
            try await gate.recordAllowed(access)
            return tokens
        }
    }

    private func issue(for user: String, expires: CivilDate, access: Access) async throws -> IssuedToken {
        guard let entry = access.policy.users[user], entry.active else {
            let user = Identifier.mention(user, as: "user")
            throw try await gate.refuse(access, AccessDenial(.unknownUser, "There is no active \(user) in the policy set."))
        }
        let issued = try await gate.auditingFailures(of: access) { try await repository.issue(user: user, expires: expires) }
        do {
            try await gate.recordAllowed(access.naming(target: issued.id), parameters: ["user": user, "expires": expires.description])
        } catch {
            _ = try? await repository.revoke(id: issued.id)
            throw error
        }
        return issued
    }

    private static func isTokenID(_ id: String) -> Bool {
        id.utf8.count == 16 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func message(_ rejection: TokenRejection) -> String {
        switch rejection {
        case .missing: "Send your API token as `Authorization: Bearer <token>`."
        case .malformed: "The token is not a broker API token."
        case .unknown: "The token is not known to the broker."
        case .expired: "The token has expired; ask an operator for a new one."
        case .revoked: "The token was revoked; ask an operator for a new one."
        }
    }
}

extension AuditAction {
    /// An operator listed the API tokens.
    public static let tokenList: AuditAction = "token.list"
}

extension AuditAction {
    /// A user signed out of the web console.
    public static let sessionEnd: AuditAction = "session.end"
}
