import Foundation
import SDECommon
import SDEDisclosure
import SDEExtracts
import SDEPolicy
import SDEPolicyFiles
import Testing

/// The committed example set in `Policies/`, as the quickstart uses it.
@Suite struct ExamplePolicyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let today = CivilDate(year: 2026, month: 11, day: 26)!

    static func load() throws -> PolicySet {
        let authorities = try LocalAuthority.load(from: root + "/Sql/local_authorities.csv")
        let codes = ReferenceCodes(regionOfLocalAuthority: Dictionary(uniqueKeysWithValues: authorities.map { ($0.code, $0.regionCode) }))
        return try PolicyDirectory.load(at: root + "/Policies", reference: codes)
    }

    @Test func theExampleSetLoadsCleanAndItsApprovalsVerify() throws {
        let policy = try Self.load()
        #expect(policy.warnings.isEmpty)
        #expect(policy.reference.regionOfLocalAuthority.count == 153)
        #expect(policy.reference.regions.count == 9)
        #expect(Set(policy.users.values.flatMap(\.roles)) == Set(Role.allCases))
        #expect(policy.queries.count >= 6)
        #expect(Set(policy.profiles.keys) == ["research-standard", "publication"])
        let unsignedQueries = policy.queries.values.filter { !$0.approvalStatus.isApproved }.map(\.id)
        #expect(unsignedQueries == ["assessments-by-ethnicity"])
        let states = policy.projects.mapValues { $0.refusal(now: Self.today)?.reason }
        #expect(
            states == [
                "P2025-001": nil, "P2025-002": nil, "P2025-003": nil, "P2023-004": .projectExpired, "P2025-005": .projectSuspended,
                "P2026-006": .projectNotApproved,
            ])
        for id in ["P2025-001", "P2025-002", "P2025-003", "P2023-004", "P2025-005"] {
            #expect(policy.projects[id]?.approvalStatus.isApproved == true, "\(id)")
        }
        #expect(policy.projects["P2026-006"]?.approvalStatus == .unsigned)
        // Signed as a broker requires: two IG officers, both needed for any change; their private keys are not here.
        #expect(policy.trust.root.version == 1 && policy.trust.root.threshold == 2)
        #expect(Set(policy.trust.root.keys.keys) == ["ig-helen-moore", "ig-ruth-mensah"])
        #expect(policy.trust.manifestSigners == ["ig-helen-moore", "ig-ruth-mensah"])
        #expect(policy.trust.manifest.files.count == 18)
        #expect(policy.trust.root.keys.keys.allSatisfy { policy.users[$0]?.has(.igOfficer) == true && policy.users[$0]?.active == true })
        let standard = try #require(policy.profiles["research-standard"]?.rules)
        #expect(standard.threshold == 10 && standard.roundingBase == 1 && standard.dominanceN == 2)
        #expect(standard.perturbation == CellKeyPerturbation(maxNoise: 4, variance: 2.5, magnitudeShare: 0.10))
        #expect(standard.dominanceK == 0.90 && standard.pPercent == 0.10 && standard.minPersonsForMean == 10 && !standard.zerosDisclosive)
        let publication = try #require(policy.profiles["publication"]?.rules)
        #expect(publication.isAtLeastAsStrict(as: standard) && publication.zerosDisclosive)
        #expect(Set(policy.releases.values.flatMap(\.audience)) == ["cqc", "oflog"])
        #expect(policy.releases.values.allSatisfy { $0.profile == "publication" })
    }

    @Test func theExampleDecisionsMatchTheStory() throws {
        let policy = try Self.load()
        let discharge = AccessAction.runQuery(
            project: "P2025-001", query: "discharge-reablement-by-la", parameters: ["from": "2023Q2", "to": "2025Q1"])
        #expect(policy.decide(user: "r-priya-shah", action: discharge, now: Self.today).grant != nil)
        #expect(policy.decide(user: "r-tom-okafor", action: discharge, now: Self.today).denial?.reason == .trainingExpired)
        let services = AccessAction.runQuery(
            project: "P2025-003", query: "services-by-type-quarter", parameters: ["from": "2024Q1", "to": "2024Q4", "la_code": "E08000025"])
        #expect(
            policy.decide(user: "r-amara-bello", action: services, now: Self.today).grant?.run?.parameters.filters == [
                .dimension("la_code", in: ["E08000025"])
            ])
        let waits = AccessAction.runQuery(project: "P2025-002", query: "waits-by-la-quarter", parameters: ["from": "2023Q1", "to": "2025Q1"])
        #expect(policy.decide(user: "r-amara-bello", action: waits, now: Self.today).grant?.run?.rules.threshold == 15)
        #expect(policy.decide(user: "r-lewis-grant", action: waits, now: Self.today).denial?.reason == .userInactive)
        let expired = AccessAction.runQuery(
            project: "P2023-004", query: "discharge-reablement-by-la", parameters: ["from": "2022Q3", "to": "2023Q2"])
        #expect(policy.decide(user: "r-priya-shah", action: expired, now: Self.today).denial?.reason == .projectExpired)
        let proposed = AccessAction.runQuery(project: "P2026-006", query: "assessments-by-ethnicity", parameters: ["from": "2023Q1", "to": "2023Q4"])
        #expect(policy.decide(user: "r-amara-bello", action: proposed, now: Self.today).denial?.reason == .projectNotApproved)
        #expect(policy.decide(user: "reg-james-cole", action: .readRelease(release: "cqc-waits-by-la-2024-25"), now: Self.today).grant != nil)
        #expect(
            policy.decide(user: "reg-sara-ahmed", action: .readRelease(release: "cqc-waits-by-la-2024-25"), now: Self.today).denial?.reason
                == .notInAudience)
        #expect(
            policy.decide(user: "op-dan-wright", action: .publishRelease(release: "oflog-discharge-reablement-2024-25"), now: Self.today).grant != nil
        )
        #expect(policy.decide(user: "ig-helen-moore", action: .readAudit, now: Self.today).grant != nil)
    }
}
