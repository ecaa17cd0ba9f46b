import SDEAudit
import SDECommon
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// Tokens: every failed authentication is audited as `auth.failed` by `anonymous`; no unaudited token stays usable;
/// bootstrap only while no operator holds a usable token; only operators administer tokens; no secret is recorded.
@Suite struct TokenServiceTests {
    /// How a request can present a token that does not authenticate, and the rejection expected.
    enum Presented: String, CaseIterable, Sendable {
        case noHeader, notBearer, notAToken, unknownToken, wrongSecret, expiredToken, revokedToken
    }

    @Test(arguments: Presented.allCases)
    func aTokenThatDoesNotAuthenticateIsAuditedAsAnonymous(_ presented: Presented) async throws {
        let fake = try FakeBroker()
        let valid = try await fake.token(for: "res")
        let header: String?
        let rejection: TokenRejection
        switch presented {
        case .noHeader: (header, rejection) = (nil, .missing)
        case .notBearer: (header, rejection) = ("Basic cmVzOnJlcw==", .malformed)
        case .notAToken: (header, rejection) = ("Bearer not-a-token", .malformed)
        case .unknownToken: (header, rejection) = ("Bearer sde_0123456789abcdef_" + String(repeating: "0", count: 64), .unknown)
        case .wrongSecret: (header, rejection) = ("Bearer " + String(valid.dropLast()) + (valid.hasSuffix("0") ? "1" : "0"), .unknown)
        case .expiredToken: (header, rejection) = ("Bearer " + (try await fake.token(for: "res", expires: fake.today.adding(days: -1))), .expired)
        case .revokedToken:
            let issued = try await fake.tokens.issue(user: "res", expires: fake.today)
            #expect(try await fake.tokens.revoke(id: issued.id))
            (header, rejection) = ("Bearer " + issued.token, .revoked)
        }
        let error = try await #require(throws: ServiceError.self) { try await fake.broker.tokens.authenticate(bearer: header) }
        #expect(error.code == .unauthenticated(rejection) && error.code.kind == .unauthenticated)
        let event = try #require(fake.trail.events.last)
        #expect(fake.trail.events.count == 1 && error.event == event)
        #expect(
            event.action == .authFailed && event.actor == "anonymous" && event.outcome == .denied && event.reason == "token_\(rejection.rawValue)")
        #expect(event.role == nil && event.parameters.isEmpty)
        #expect(!"\(event.jsonValue())".contains(valid.suffix(64)), "no secret in the trail")
    }

    @Test func aValidTokenAuthenticatesAsItsUserUnaudited() async throws {
        let fake = try FakeBroker()
        let token = try await fake.token(for: "res")
        let caller = try await fake.broker.tokens.authenticate(bearer: "Bearer " + token)
        #expect(caller.user == "res" && token.hasPrefix("sde_\(caller.tokenID)_"))
        #expect(fake.trail.events.isEmpty)
    }

    @Test func aTokenThatCannotBeCheckedIsRefusedAndAuditedAsAFailure() async throws {
        let fake = try FakeBroker()
        let token = try await fake.token(for: "res")
        fake.tokens.failCalls(with: .databaseUnavailable)
        let error = try await #require(throws: ServiceError.self) { try await fake.broker.tokens.authenticate(bearer: "Bearer " + token) }
        #expect(error.code == .databaseUnavailable)
        let event = try #require(fake.trail.events.last)
        #expect(error.event == event && event.action == .authFailed && event.actor == "anonymous")
        #expect(event.outcome == .error && event.reason == "database_unavailable")
    }

    @Test func anOperatorIssuesAnAuditedTokenWhoseSecretIsNotRecorded() async throws {
        let fake = try FakeBroker()
        let issued = try await fake.broker.tokens.issue(fake.caller("op"), for: "res", expires: fake.today.adding(days: 90))
        let event = try #require(fake.trail.events.last)
        #expect(event.action == .tokenIssued && event.outcome == .allowed && event.actor == "op" && event.role == "operator")
        #expect(event.target == issued.id && event.parameters == ["user": "res", "expires": fake.today.adding(days: 90).description])
        #expect(!"\(event.jsonValue())".contains(String(issued.token.suffix(64))), "no secret in the trail")
        #expect(try await fake.broker.tokens.authenticate(bearer: "Bearer " + issued.token).user == "res")
    }

    @Test func anIssuedTokenWhoseEventFailsIsRevoked() async throws {
        let fake = try FakeBroker()
        fake.trail.failWrites(with: .auditUnavailable)
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.tokens.issue(fake.caller("op"), for: "res", expires: fake.today.adding(days: 90))
        }
        #expect(error.code == .auditUnavailable)
        let tokens = try await fake.tokens.list()
        #expect(tokens.count == 1 && tokens.allSatisfy { $0.revoked != nil }, "no unaudited token stays usable")
    }

    @Test(arguments: [("nobody", DenyReason.unknownUser), ("ig-old", .unknownUser)])
    func aTokenForNoActiveUserIsRefusedAndAudited(user: String, reason: DenyReason) async throws {
        let fake = try FakeBroker()
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.tokens.issue(fake.caller("op"), for: user, expires: fake.today.adding(days: 90))
        }
        #expect(error.code == .denied(reason) && error.event == fake.trail.events.last && error.event?.action == .tokenIssued)
        #expect(try await fake.tokens.list().isEmpty)
    }

    @Test func anExpiryInThePastIsRefusedAndAudited() async throws {
        let fake = try FakeBroker()
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.tokens.issue(fake.caller("op"), for: "res", expires: fake.today.adding(days: -1))
        }
        #expect(error.code == .denied(.parameterInvalid) && error.event?.outcome == .denied)
        #expect(try await fake.tokens.list().isEmpty)
    }

    @Test func bootstrapIssuesTheFirstOperatorTokenOnlyWhileNoOperatorHoldsAUsableOne() async throws {
        let fake = try FakeBroker()
        let first = try await fake.broker.tokens.bootstrap(operator: "op", expires: fake.today.adding(days: 30))
        let event = try #require(fake.trail.events.last)
        #expect(event.action == .tokenIssued && event.actor == AuditEventDraft.brokerActor && event.target == first.id)
        #expect(event.parameters["bootstrap"] == "true" && event.parameters["user"] == "op")
        let again = try await #require(throws: ServiceError.self) {
            try await fake.broker.tokens.bootstrap(operator: "op", expires: fake.today.adding(days: 30))
        }
        #expect(again.code == .alreadyBootstrapped && again.code.kind == .unprocessable)
        let refusal = try #require(fake.trail.events.last)
        #expect(again.event == refusal && refusal.action == .tokenIssued && refusal.outcome == .denied && refusal.reason == "already_bootstrapped")
        #expect(refusal.actor == AuditEventDraft.brokerActor)
        #expect(try await fake.tokens.list().count == 1)
        // Once that token is revoked, no operator holds a usable token: bootstrap works again.
        #expect(try await fake.tokens.revoke(id: first.id))
        _ = try await fake.broker.tokens.bootstrap(operator: "op", expires: fake.today.adding(days: 30))
    }

    @Test func bootstrapIgnoresExpiredOperatorTokensAndOtherUsersTokens() async throws {
        let fake = try FakeBroker()
        _ = try await fake.token(for: "op", expires: fake.today.adding(days: -1))
        _ = try await fake.token(for: "res")
        _ = try await fake.broker.tokens.bootstrap(operator: "op", expires: fake.today.adding(days: 30))
    }

    @Test(arguments: ["res", "ig", "reg", "nobody"])
    func bootstrapIsForActiveOperatorsOnly(user: String) async throws {
        let fake = try FakeBroker()
        let error = try await #require(throws: ServiceError.self) { try await fake.broker.tokens.bootstrap(operator: user, expires: fake.today) }
        #expect(error.code == .denied(.wrongRole))
        #expect(error.event == fake.trail.events.last && error.event?.reason == "wrong_role" && error.event?.outcome == .denied)
        #expect(try await fake.tokens.list().isEmpty)
    }

    @Test func aBootstrapTokenWhoseEventFailsIsRevoked() async throws {
        let fake = try FakeBroker()
        fake.trail.failWrites(with: .auditUnavailable)
        let error = try await #require(throws: ServiceError.self) {
            try await fake.broker.tokens.bootstrap(operator: "op", expires: fake.today.adding(days: 30))
        }
        #expect(error.code == .auditUnavailable)
        #expect(try await fake.tokens.list().allSatisfy { $0.revoked != nil })
    }

    /// One token administration for `user`, for the role test.
    enum Administration: String, CaseIterable, Sendable {
        case issue, revoke, list
        var action: AuditAction {
            switch self {
            case .issue: .tokenIssued
            case .revoke: .tokenRevoked
            case .list: .tokenList
            }
        }
    }

    @Test(arguments: ["res", "ig", "reg"], Administration.allCases)
    func onlyOperatorsAdministerTokens(user: String, administration: Administration) async throws {
        let fake = try FakeBroker()
        let issued = try await fake.tokens.issue(user: "res", expires: fake.today)
        let caller = fake.caller(user)
        let error = try await #require(throws: ServiceError.self) {
            switch administration {
            case .issue: _ = try await fake.broker.tokens.issue(caller, for: user, expires: fake.today)
            case .revoke: _ = try await fake.broker.tokens.revoke(caller, id: issued.id)
            case .list: _ = try await fake.broker.tokens.list(caller)
            }
        }
        #expect(error.code == .denied(.wrongRole))
        let event = try #require(fake.trail.events.last)
        #expect(error.event == event && event.action == administration.action && event.outcome == .denied && event.actor == user)
        let tokens = try await fake.tokens.list()
        #expect(tokens.count == 1 && tokens.allSatisfy { $0.revoked == nil })
    }

    @Test func anOperatorRevokesAndListsTokensAudited() async throws {
        let fake = try FakeBroker()
        let issued = try await fake.tokens.issue(user: "res", expires: fake.today)
        try await fake.broker.tokens.revoke(fake.caller("op"), id: issued.id)
        let revoked = try #require(fake.trail.events.last)
        #expect(revoked.action == .tokenRevoked && revoked.outcome == .allowed && revoked.target == issued.id)
        let listed = try await fake.broker.tokens.list(fake.caller("op"))
        #expect(listed.map(\.id) == [issued.id] && listed.first?.revoked != nil)
        #expect(fake.trail.events.last?.action == .tokenList)
        let again = try await #require(throws: ServiceError.self) { try await fake.broker.tokens.revoke(fake.caller("op"), id: issued.id) }
        #expect(again.code == .tokenNotFound && again.event?.outcome == .error && again.event?.reason == "token_not_found", "revoking nothing is recorded")
        let malformed = try await #require(throws: ServiceError.self) { try await fake.broker.tokens.revoke(fake.caller("op"), id: "x'; --") }
        #expect(malformed.code == .denied(.parameterInvalid) && malformed.event?.target == nil, "a typed id that is no identifier is not recorded")
    }
}

/// A user id typed on the command line is repeated in a refusal only when it is a plain identifier (issue 13).
@Suite struct TokenUserEchoTests {
    @Test(arguments: ["=cmd|' /C calc'!A0", "op'--", "x\ny"])
    func aHostileUserIdIsNotRepeated(_ user: String) async throws {
        let fake = try FakeBroker()
        let issue = try await #require(throws: ServiceError.self) {
            try await fake.broker.tokens.issue(fake.caller("op"), for: user, expires: fake.today.adding(days: 1))
        }
        #expect(issue.code == .denied(.unknownUser) && !issue.message.contains(user) && issue.message.contains("user named in the request"))
        let bootstrap = try await #require(throws: ServiceError.self) {
            try await fake.broker.tokens.bootstrap(operator: user, expires: fake.today.adding(days: 1))
        }
        #expect(!bootstrap.message.contains(user) && bootstrap.message.contains("operator named in the request"))
    }
}
