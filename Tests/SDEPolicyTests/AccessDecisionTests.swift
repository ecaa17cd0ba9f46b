import Foundation
import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEServiceFakes
import Testing

/// One way to break the allowed request: a change to the policy files and/or the request, and the reason expected.
struct Breakage: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: DenyReason
    var edit: @Sendable (inout Fixture) -> Void = { _ in }
    var request: @Sendable (inout Request) -> Void = { _ in }

    var testDescription: String { "\(name) → \(reason.rawValue)" }

    static let all: [Breakage] = [
        Breakage(name: "unknown user", reason: .unknownUser, request: { $0.user = "nobody" }),
        Breakage(name: "account disabled", reason: .userInactive, edit: { $0.edit("users.yaml", "active: true", "active: false") }),
        Breakage(name: "regulator runs a query", reason: .wrongRole, request: { $0.user = "reg" }),
        Breakage(name: "IG officer runs a query", reason: .wrongRole, request: { $0.user = "ig" }),
        Breakage(name: "operator runs a query", reason: .wrongRole, request: { $0.user = "op" }),
        Breakage(
            name: "training expired yesterday", reason: .trainingExpired,
            edit: { $0.edit("users.yaml", "training_expires: 2027-01-31", "training_expires: 2026-06-14") }),
        Breakage(name: "unknown project", reason: .unknownProject, request: { $0.project = "p9" }),
        Breakage(name: "not a member", reason: .notAMember, request: { $0.user = "res2" }),
        Breakage(name: "proposed", reason: .projectNotApproved, edit: { $0.edit("projects/p1.yaml", "status: approved", "status: proposed") }),
        Breakage(name: "suspended", reason: .projectSuspended, edit: { $0.edit("projects/p1.yaml", "status: approved", "status: suspended") }),
        Breakage(name: "closed", reason: .projectClosed, edit: { $0.edit("projects/p1.yaml", "status: approved", "status: closed") }),
        Breakage(name: "project unsigned", reason: .projectUnsigned, edit: { $0.unsigned.insert("projects/p1.yaml") }),
        Breakage(
            name: "project changed after signing", reason: .projectBadSignature,
            edit: { $0.tampering.append(("projects/p1.yaml", "members: [res]", "members: [res, res2]")) }),
        Breakage(
            name: "project signed by a former IG officer", reason: .projectBadSignature,
            edit: { $0.edit("users.yaml", "roles: [ig_officer]\n    active: true", "roles: [ig_officer]\n    active: false") }),
        Breakage(
            name: "starts tomorrow", reason: .projectNotStarted, edit: { $0.edit("projects/p1.yaml", "start: 2026-01-01", "start: 2026-06-16") }),
        Breakage(
            name: "expired yesterday", reason: .projectExpired, edit: { $0.edit("projects/p1.yaml", "expiry: 2026-12-31", "expiry: 2026-06-14") }),
        Breakage(name: "unknown query", reason: .unknownQuery, request: { $0.query = "q9" }),
        Breakage(name: "query of another project", reason: .queryNotInProject, request: { $0.query = "q2" }),
        Breakage(name: "query unsigned", reason: .queryNotApproved, edit: { $0.unsigned.insert("queries/q1.yaml") }),
        Breakage(
            name: "query changed after signing", reason: .queryNotApproved,
            edit: { $0.tampering.append(("queries/q1.yaml", "measures: [persons, median_days]", "measures: [persons, requests]")) }),
        Breakage(
            name: "query on a dataset the project may not use", reason: .datasetNotAllowed,
            edit: { $0.edit("projects/p1.yaml", "queries: [q1]", "queries: [q1, q2]") }, request: { $0.query = "q2" }),
        Breakage(name: "from missing", reason: .parameterMissing, request: { $0.parameters["from"] = nil }),
        Breakage(name: "to missing", reason: .parameterMissing, request: { $0.parameters["to"] = nil }),
        Breakage(name: "unknown parameter", reason: .parameterUnknown, request: { $0.parameters["la_code"] = "E06000001" }),
        Breakage(name: "date instead of quarter", reason: .parameterInvalid, request: { $0.parameters["from"] = "2023-04-01" }),
        Breakage(name: "quarter 5", reason: .parameterInvalid, request: { $0.parameters["from"] = "2023Q5" }),
        Breakage(name: "lower-case quarter", reason: .parameterInvalid, request: { $0.parameters["from"] = "2023q2" }),
        Breakage(name: "before the data window", reason: .parameterInvalid, request: { $0.parameters["from"] = "2022Q4" }),
        Breakage(name: "after the data window", reason: .parameterInvalid, request: { $0.parameters["to"] = "2025Q1" }),
        Breakage(name: "from after to", reason: .parameterInvalid, request: { $0.parameters = ["from": "2024Q2", "to": "2024Q1"] }),
        Breakage(name: "enumeration value not in list", reason: .parameterInvalid, request: { $0.parameters["reason"] = "flying" }),
        Breakage(name: "unknown local authority", reason: .parameterInvalid, request: { $0.parameters["la"] = "E99999999" }),
        Breakage(name: "empty value", reason: .parameterInvalid, request: { $0.parameters["reason"] = "" }),
    ]
}

struct Request: Sendable {
    var user = "res"
    var project = "p1"
    var query = "q1"
    var parameters = ["from": "2023Q2", "to": "2024Q1"]

    var action: AccessAction { .runQuery(project: project, query: query, parameters: parameters) }
}

@Suite struct AccessDecisionTests {
    @Test func theBaseRequestIsAllowedWithTypedParameters() throws {
        let policy = try Fixture.standard.load()
        let decision = policy.decide(
            user: "res", action: .runQuery(project: "p1", query: "q1", parameters: ["from": "2023Q2", "to": "2024Q1", "reason": "mental_health"]),
            now: Fixture.today)
        let grant = try #require(decision.grant, "\(String(describing: decision.denial))")
        let run = try #require(grant.run)
        #expect(run.query.id == "q1")
        #expect(run.dataset.view == "datasets.request_waits")
        #expect(run.parameters.period == QuarterRange(from: Quarter(year: 2023, number: 2)!, to: Quarter(year: 2024, number: 1)!))
        #expect(run.parameters.period.firstDay.description == "2023-04-01")
        #expect(run.parameters.period.lastDay.description == "2024-03-31")
        #expect(run.parameters.filters == [.dimension("support_reason", in: ["mental_health"])])
        #expect(run.query.filters == [.flag("assessed", equals: true)])
        #expect(run.profile == "standard")
        #expect(run.rules.threshold == 20)
        #expect(run.rules.roundingBase == 5)
        #expect(grant.policyDigest == policy.digest)
        #expect(grant.project?.id == "p1")
    }

    @Test func absentOptionalQuarterBoundsDefaultToTheDataWindow() throws {
        let policy = try Fixture.standard.load()
        var fixture = Fixture.standard
        fixture.edit("queries/q1.yaml", "bound: to\n    required: true", "bound: to\n    required: false")
        let relaxed = try fixture.load()
        let decision = relaxed.decide(user: "res", action: .runQuery(project: "p1", query: "q1", parameters: ["from": "2024Q1"]), now: Fixture.today)
        let run = try #require(decision.grant?.run)
        #expect(run.parameters.period.description == "2024Q1..2024Q4")
        #expect(
            policy.decide(user: "res", action: .runQuery(project: "p1", query: "q1", parameters: ["from": "2024Q1"]), now: Fixture.today)
                .denial?.reason == .parameterMissing)
    }

    @Test func projectDatesAreInclusive() throws {
        let policy = try Fixture.standard.load()
        let request = Request()
        for day in ["2026-01-01", "2026-12-31"] {
            #expect(policy.decide(user: request.user, action: request.action, now: CivilDate(parsing: day)!).grant != nil)
        }
        #expect(
            policy.decide(user: request.user, action: request.action, now: CivilDate(parsing: "2025-12-31")!).denial?.reason == .projectNotStarted)
        #expect(policy.decide(user: request.user, action: request.action, now: CivilDate(parsing: "2027-01-01")!).denial?.reason == .projectExpired)
    }

    /// Starting from the allowed request, breaking any single precondition denies with that precondition's reason.
    @Test(arguments: Breakage.all)
    func everySinglePreconditionFailingDenies(_ breakage: Breakage) throws {
        var fixture = Fixture.standard
        breakage.edit(&fixture)
        var request = Request()
        breakage.request(&request)
        let policy = try fixture.load()
        let decision = policy.decide(user: request.user, action: request.action, now: Fixture.today)
        let denial = try #require(decision.denial, "expected \(breakage.reason.rawValue), got allow")
        #expect(denial.reason == breakage.reason, "\(denial)")
        #expect(!denial.message.isEmpty)
    }

    @Test func everyDenyReasonIsCovered() {
        let covered = Set(Breakage.all.map(\.reason)).union(RoleCase.all.compactMap(\.reason)).union([.policyInvalid])
        #expect(covered == Set(DenyReason.allCases))
    }

    @Test func denialsTellTheResearcherWhatToDo() throws {
        var fixture = Fixture.standard
        fixture.edit("users.yaml", "training_expires: 2027-01-31", "training_expires: 2026-03-31")
        let policy = try fixture.load()
        let denial = try #require(policy.decide(user: "res", action: Request().action, now: Fixture.today).denial)
        #expect(denial.message.contains("2026-03-31"))
        #expect(denial.message.contains("refresher"))
        let missing = try #require(
            try Fixture.standard.load().decide(
                user: "res", action: .runQuery(project: "p1", query: "q1", parameters: ["from": "2023Q2"]), now: Fixture.today
            )
            .denial)
        #expect(missing.message.contains("'to'"))
        #expect(missing.message.contains("2023Q1 to 2024Q4"))
    }

    struct RoleCase: Sendable, CustomTestStringConvertible {
        let user: String
        let action: AccessAction
        /// nil means allowed.
        let reason: DenyReason?

        var testDescription: String { "\(user) \(action) → \(reason?.rawValue ?? "allow")" }

        static let all: [RoleCase] = [
            RoleCase(user: "ig", action: .readAudit, reason: nil),
            RoleCase(user: "res", action: .readAudit, reason: .wrongRole),
            RoleCase(user: "reg", action: .readAudit, reason: .wrongRole),
            RoleCase(user: "op", action: .readAudit, reason: .wrongRole),
            RoleCase(user: "ig", action: .showQuery(query: "q1"), reason: nil),
            RoleCase(user: "op", action: .showQuery(query: "q1"), reason: nil),
            RoleCase(user: "op", action: .showQuery(query: "q9"), reason: .unknownQuery),
            RoleCase(user: "res", action: .showQuery(query: "q1"), reason: .wrongRole),
            RoleCase(user: "reg", action: .showQuery(query: "q1"), reason: .wrongRole),
            RoleCase(user: "reg", action: .readRelease(release: "r1"), reason: nil),
            RoleCase(user: "reg2", action: .readRelease(release: "r1"), reason: .notInAudience),
            RoleCase(user: "reg", action: .readRelease(release: "r9"), reason: .unknownRelease),
            RoleCase(user: "res", action: .readRelease(release: "r1"), reason: .wrongRole),
            RoleCase(user: "ig", action: .readRelease(release: "r1"), reason: .wrongRole),
            RoleCase(user: "op", action: .publishRelease(release: "r1"), reason: nil),
            RoleCase(user: "ig", action: .publishRelease(release: "r1"), reason: .wrongRole),
            RoleCase(user: "reg", action: .publishRelease(release: "r1"), reason: .wrongRole),
            RoleCase(user: "op", action: .operate(.database), reason: nil),
            RoleCase(user: "op", action: .operate(.ingest), reason: nil),
            RoleCase(user: "op", action: .operate(.tokens), reason: nil),
            RoleCase(user: "ig", action: .operate(.tokens), reason: .wrongRole),
            RoleCase(user: "res", action: .operate(.ingest), reason: .wrongRole),
            RoleCase(user: "reg", action: .operate(.database), reason: .wrongRole),
            RoleCase(user: "res", action: .describeProject(project: "p1"), reason: nil),
            RoleCase(user: "res2", action: .describeProject(project: "p1"), reason: .notAMember),
            RoleCase(user: "reg", action: .describeProject(project: "p1"), reason: .wrongRole),
            RoleCase(user: "ghost", action: .readAudit, reason: .unknownUser),
        ]
    }

    @Test(arguments: RoleCase.all)
    func rolesDecideWhoMayDoWhat(_ rule: RoleCase) throws {
        let decision = try Fixture.standard.load().decide(user: rule.user, action: rule.action, now: Fixture.today)
        #expect(decision.denial?.reason == rule.reason, "\(String(describing: decision.denial))")
    }

    @Test func publishingAReleaseNeedsAnApprovedQueryAndCarriesItsParameters() throws {
        let grant = try #require(try Fixture.standard.load().decide(user: "op", action: .publishRelease(release: "r1"), now: Fixture.today).grant)
        #expect(grant.run?.parameters.period.description == "2024Q1..2024Q4")
        #expect(grant.run?.rules.zerosDisclosive == true)
        var fixture = Fixture.standard
        fixture.unsigned.insert("queries/q1.yaml")
        #expect(try fixture.load().decide(user: "op", action: .publishRelease(release: "r1"), now: Fixture.today).denial?.reason == .queryNotApproved)
    }

    @Test(arguments: [AccessAction.readAudit, .showQuery(query: "q1"), .operate(.tokens), .readRelease(release: "r1")])
    func inactiveUsersAreRefusedEverything(_ action: AccessAction) throws {
        var fixture = Fixture.standard
        fixture.files["users.yaml"] = fixture.files["users.yaml"]?.replacingOccurrences(of: "active: true", with: "active: false")
        let policy = try fixture.load()
        for user in ["ig", "op", "reg"] {
            #expect(policy.decide(user: user, action: action, now: Fixture.today).denial?.reason == .userInactive)
        }
    }
}
