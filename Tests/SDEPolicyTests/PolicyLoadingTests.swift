import Foundation
import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEServiceFakes
import Testing

/// A broken fixture and the `file:line: message` it must produce.
struct BrokenFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let file: String
    let old: String
    let new: String
    /// Text whose line the error is reported on (after the edit).
    let at: String
    let message: String

    var testDescription: String { name }

    static let all: [BrokenFixture] = [
        BrokenFixture(
            name: "unknown key", file: "users.yaml", old: "    active: true\n", new: "    active: true\n    colour: blue\n", at: "colour: blue",
            message: "unknown key 'colour' in a user"),
        BrokenFixture(
            name: "wrong type", file: "disclosure-profiles.yaml", old: "threshold: 10", new: "threshold: ten", at: "threshold: ten",
            message: "'threshold' must be a whole number"),
        BrokenFixture(
            name: "boolean written as yes", file: "users.yaml", old: "active: true", new: "active: yes", at: "active: yes",
            message: "'active' must be true or false"),
        BrokenFixture(
            name: "number where text is expected", file: "projects/p1.yaml", old: "title: Waits study", new: "title: 2026", at: "title: 2026",
            message: "'title' must be text"),
        BrokenFixture(
            name: "duplicate user id", file: "users.yaml", old: "  - id: res2\n", new: "  - id: res\n", at: "  - id: res\n    name: Second",
            message: "duplicate user id 'res'"),
        BrokenFixture(
            name: "duplicate dataset id", file: "datasets.yaml", old: "  - id: discharges", new: "  - id: waits",
            at: "  - id: waits\n    title: Discharges",
            message: "duplicate dataset id 'waits'"),
        BrokenFixture(
            name: "project names an unknown query", file: "projects/p1.yaml", old: "queries: [q1]", new: "queries: [q1,\n  q-missing]",
            at: "  q-missing]", message: "unknown vetted query 'q-missing'"),
        BrokenFixture(
            name: "project names an unknown member", file: "projects/p1.yaml", old: "members: [res]", new: "members: [res, nobody]",
            at: "members:", message: "unknown user 'nobody'"),
        BrokenFixture(
            name: "member who is not a researcher", file: "projects/p1.yaml", old: "members: [res]", new: "members: [res, reg]", at: "members:",
            message: "member 'reg' is not a researcher"),
        BrokenFixture(
            name: "query names an unknown dimension", file: "queries/q1.yaml", old: "dimensions: [la_code, quarter]",
            new: "dimensions: [la_code, quarter, colour]", at: "dimensions:", message: "'colour' is not a dimension of dataset 'waits'"),
        BrokenFixture(
            name: "query names an unknown dataset", file: "queries/q2.yaml", old: "dataset: discharges", new: "dataset: admissions",
            at: "dataset: admissions", message: "unknown dataset 'admissions'"),
        BrokenFixture(
            name: "filter value outside the dimension", file: "queries/q1.yaml", old: "  - flag: assessed\n    equals: true\n",
            new: "  - dimension: support_reason\n    values: [juggling]\n", at: "values: [juggling]",
            message: "'juggling' is not a value of dimension 'support_reason'"),
        BrokenFixture(
            name: "impossible date", file: "projects/p1.yaml", old: "start: 2026-01-01", new: "start: 2026-02-30", at: "start:",
            message: "'start' must be a real date written YYYY-MM-DD, found '2026-02-30'"),
        BrokenFixture(
            name: "expiry before start", file: "projects/p1.yaml", old: "expiry: 2026-12-31", new: "expiry: 2025-12-31", at: "expiry:",
            message: "'expiry' (2025-12-31) is before 'start' (2026-01-01)"),
        BrokenFixture(
            name: "data window backwards", file: "projects/p1.yaml", old: "{from: 2023Q1, to: 2024Q4}", new: "{from: 2024Q4, to: 2023Q1}",
            at: "data_window:", message: "'to' (2023Q1) is before 'from' (2024Q4)"),
        BrokenFixture(
            name: "data window outside coverage", file: "projects/p1.yaml", old: "{from: 2023Q1, to: 2024Q4}", new: "{from: 2021Q1, to: 2024Q4}",
            at: "data_window:", message: "outside dataset 'waits' coverage 2022Q2..2025Q1"),
        BrokenFixture(
            name: "profile loosened", file: "projects/p1.yaml", old: "threshold: 20", new: "threshold: 5", at: "threshold: 5",
            message: "overrides loosen profile 'standard' (threshold)"),
        BrokenFixture(
            name: "rounding base not a multiple", file: "projects/p1.yaml", old: "threshold: 20", new: "rounding_base: 7", at: "rounding_base: 7",
            message: "overrides loosen profile 'standard' (rounding_base)"),
        BrokenFixture(
            name: "zeros made non-disclosive", file: "projects/p1.yaml", old: "profile: standard\n  overrides:\n    threshold: 20",
            new: "profile: publication\n  overrides:\n    zeros_disclosive: false", at: "zeros_disclosive: false",
            message: "overrides loosen profile 'publication' (zeros_disclosive)"),
        BrokenFixture(
            name: "unknown profile", file: "projects/p1.yaml", old: "profile: standard", new: "profile: lenient", at: "profile: lenient",
            message: "unknown disclosure profile 'lenient'"),
        BrokenFixture(
            name: "unknown status", file: "projects/p1.yaml", old: "status: approved", new: "status: approvedish", at: "status:",
            message: "unknown status 'approvedish'"),
        BrokenFixture(
            name: "id does not match file", file: "projects/p1.yaml", old: "id: p1", new: "id: p2", at: "id: p2",
            message: "project id 'p2' must match the file name (p1.yaml)"),
        BrokenFixture(
            name: "unknown role", file: "users.yaml", old: "roles: [operator]", new: "roles: [admin]", at: "roles: [admin]",
            message: "unknown role 'admin'"),
        BrokenFixture(
            name: "IG officer's key in the users file", file: "users.yaml", old: "    roles: [ig_officer]\n    active: false\n",
            new: "    roles: [ig_officer]\n    active: false\n    public_key: \(Fixture.otherKey.publicKeyHex)\n", at: "public_key:",
            message: "IG officers' public keys are in the policy root"),
        BrokenFixture(
            name: "minimum is never released", file: "datasets.yaml", old: "kind: median", new: "kind: min", at: "kind: min",
            message: "min is never released"),
        BrokenFixture(
            name: "quarters cannot partition persons", file: "datasets.yaml", old: "type: quarter\n        partitions_persons: false",
            new: "type: quarter\n        partitions_persons: true  # wrong", at: "partitions_persons: true  # wrong",
            message: "a quarter dimension cannot partition persons"),
        BrokenFixture(
            name: "age bands not contiguous", file: "datasets.yaml", old: "'65-74'", new: "'66-74'", at: "'66-74'",
            message: "age band '66-74' should start at 65"),
        BrokenFixture(
            name: "rate over an unknown flag", file: "datasets.yaml", old: "numerator: assessed", new: "numerator: seen", at: "numerator: seen",
            message: "'seen', which is not a flag column"),
        BrokenFixture(
            name: "release names an unknown organisation", file: "releases.yaml", old: "audience: [cqc]", new: "audience: [nhse]",
            at: "audience:", message: "unknown organisation 'nhse'"),
        BrokenFixture(
            name: "release parameter outside coverage", file: "releases.yaml", old: "{from: 2024Q1, to: 2024Q4}", new: "{from: 2024Q1, to: 2025Q2}",
            at: "parameters:", message: "Parameter 'to': 2025Q2 is outside the data window"),
        BrokenFixture(
            name: "record key as a dimension", file: "datasets.yaml", old: "      - name: support_reason\n", new: "      - name: record_key\n",
            at: "      - name: record_key", message: "'record_key' is the dataset's record key: it is only ever summed into cell keys"),
        BrokenFixture(
            name: "record key as a flag", file: "datasets.yaml", old: "      - name: assessed\n", new: "      - name: record_key\n",
            at: "      - name: record_key", message: "'record_key' is the dataset's record key"),
        BrokenFixture(
            name: "record key as a magnitude", file: "datasets.yaml", old: "      - name: days_to_assessment\n",
            new: "      - name: record_key\n", at: "      - name: record_key", message: "'record_key' is the dataset's record key"),
        BrokenFixture(
            name: "record key as a measure", file: "datasets.yaml", old: "      - name: requests\n", new: "      - name: record_key\n",
            at: "      - name: record_key", message: "'record_key' is the dataset's record key"),
        BrokenFixture(
            name: "record key is the person key", file: "datasets.yaml", old: "    record_key: record_key\n", new: "    record_key: person_id\n",
            at: "record_key: person_id", message: "'record_key' must name a column of its own"),
        BrokenFixture(
            name: "query groups by the record key", file: "queries/q1.yaml", old: "dimensions: [la_code, quarter]",
            new: "dimensions: [la_code, quarter, record_key]", at: "dimensions:", message: "'record_key' is the dataset's record key"),
        BrokenFixture(
            name: "query filters on the record key", file: "queries/q1.yaml", old: "  - flag: assessed\n    equals: true\n",
            new: "  - dimension: record_key\n    values: ['1']\n", at: "dimension: record_key", message: "'record_key' is the dataset's record key"),
        BrokenFixture(
            name: "unknown count method", file: "disclosure-profiles.yaml", old: "method: rounding", new: "method: noise",
            at: "method: noise", message: "unknown method 'noise'; methods are cell_key and rounding"),
        BrokenFixture(
            name: "a rounding key under the cell-key method", file: "disclosure-profiles.yaml", old: "method: rounding",
            new: "method: cell_key\n    max_noise: 4\n    noise_variance: 2.5\n    magnitude_noise: 0.1", at: "rounding_base: 5",
            message: "'rounding_base' does not apply to the cell_key method"),
        BrokenFixture(
            name: "the cell-key method without its noise", file: "disclosure-profiles.yaml", old: "method: rounding\n    threshold: 10\n    rounding_base: 5",
            new: "method: cell_key\n    threshold: 10", at: "  - id: standard", message: "is missing required key 'max_noise'"),
        BrokenFixture(
            name: "noise variance beyond the maximum noise", file: "disclosure-profiles.yaml",
            old: "method: rounding\n    threshold: 10\n    rounding_base: 5",
            new: "method: cell_key\n    threshold: 10\n    max_noise: 2\n    noise_variance: 5\n    magnitude_noise: 0.1", at: "noise_variance: 5",
            message: "the noise variance must be in (0, 4), not 5.0"),
        BrokenFixture(
            name: "a project changes the count method", file: "projects/p1.yaml", old: "threshold: 20",
            new: "method: cell_key\n    max_noise: 4\n    noise_variance: 2.5\n    magnitude_noise: 0.1", at: "method: cell_key",
            message: "overrides loosen profile 'standard' (method"),
        BrokenFixture(
            name: "approval signature not hex", file: "queries/q2.yaml", old: "measures: [persons, at_home_rate]\n",
            new: "measures: [persons, at_home_rate]\napproval:\n  signer: ig\n  date: 2026-01-02\n  signature: zz\n", at: "signature: zz",
            message: "'signature' must be a 64-byte Ed25519 signature"),
    ]
}

@Suite struct PolicyLoadingTests {
    @Test func theFixtureLoadsClean() throws {
        let policy = try Fixture.standard.load()
        #expect(policy.users.count == 7)
        #expect(policy.projects["p1"]?.approvalStatus == .approved(signer: "ig", date: Fixture.signingDate))
        #expect(policy.queries["q1"]?.approvalStatus.isApproved == true)
        #expect(policy.projects["p1"]?.disclosure.rules.threshold == 20)
        #expect(policy.datasets["waits"]?.dimension(named: "la_code")?.parent == "region_code")
        #expect(policy.datasets["discharges"]?.measure(named: "at_home_rate")?.formula == .rate(numerator: "at_home", denominator: "reablement"))
        #expect(policy.warnings.isEmpty)
        #expect(policy.digest.count == 64)
    }

    @Test(arguments: BrokenFixture.all)
    func eachBrokenFixtureReportsFileAndLine(_ broken: BrokenFixture) throws {
        var fixture = Fixture.standard
        fixture.edit(broken.file, broken.old, broken.new)
        fixture.unsigned = [broken.file]
        let line = fixture.line(of: broken.at, in: broken.file)
        let diagnostics = try fixture.diagnostics()
        let match = diagnostics.first { $0.file == broken.file && $0.message.contains(broken.message) }
        #expect(match?.line == line, "\(diagnostics.map(\.description))")
        #expect(match?.description.hasPrefix("\(broken.file):\(line): ") == true)
    }

    @Test func allErrorsAreReportedAtOnce() throws {
        var fixture = Fixture.standard
        fixture.edit("users.yaml", "roles: [operator]", "roles: [admin]")
        fixture.edit("projects/p1.yaml", "start: 2026-01-01", "start: 2026-13-01")
        fixture.edit("queries/q2.yaml", "dimensions: [la_code]", "dimensions: [la_code, colour]")
        fixture.edit("disclosure-profiles.yaml", "dominance_k: 0.90", "dominance_k: 1.5")
        let files = Set(try fixture.diagnostics().map(\.file))
        #expect(files == ["users.yaml", "projects/p1.yaml", "queries/q2.yaml", "disclosure-profiles.yaml"])
    }

    @Test func missingAndUnexpectedFilesAreReported() throws {
        var fixture = Fixture.standard
        fixture.files["users.yaml"] = nil
        fixture.files["notes.yaml"] = "a: 1\n"
        fixture.files["projects/p2.yml"] = "id: p2\n"
        let diagnostics = try fixture.diagnostics()
        #expect(diagnostics.contains { $0.file == "users.yaml" && $0.message.contains("missing required policy file") })
        #expect(diagnostics.contains { $0.file == "notes.yaml" && $0.message.contains("unexpected policy file") })
        #expect(diagnostics.contains { $0.file == "projects/p2.yml" && $0.message.contains("unexpected policy file") })
    }

    @Test func aProjectQueryOnAForbiddenDatasetIsAWarningNotAnError() throws {
        var fixture = Fixture.standard
        fixture.edit("projects/p1.yaml", "queries: [q1]", "queries: [q1, q2]")
        let policy = try fixture.load()
        #expect(policy.warnings.count == 1)
        #expect(policy.warnings.first?.file == "projects/p1.yaml")
        #expect(policy.warnings.first?.message.contains("dataset 'discharges'") == true)
    }

    @Test func theDigestCoversValuesNotLayout() throws {
        let base = try Fixture.standard.load().digest
        #expect(try Fixture.standard.load().digest == base)
        var commented = Fixture.standard
        commented.edit("datasets.yaml", "datasets:\n", "# the catalogue\ndatasets:\n")
        #expect(try commented.load().digest == base)
        var changed = Fixture.standard
        changed.edit("datasets.yaml", "description: Days waited.", "description: Days waited for assessment.")
        #expect(try changed.load().digest != base)
    }
}
