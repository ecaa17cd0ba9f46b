import Foundation
public import SDECommon
public import SDEPolicy

/// A small, complete policy set as YAML text, signed on demand with keys generated for this test run: what the policy
/// tests edit and break, and what the service and HTTP tests decide under.
///
/// The set is signed as a broker requires: `root/1.yaml` names the IG officers' keys (``key`` for `ig`, ``otherKey``
/// for `ig-old`, threshold 1, signed by `ig`), projects and queries carry `ig`'s approvals, and `manifest.yaml` lists
/// every other file's SHA-256, signed by `ig`. Edits before signing (``replace(_:_:_:)``) are what the IG team signed;
/// ``tampering`` is applied after the approvals but before the manifest (a change the IG team signed into the set
/// without re-approving the file), ``afterManifest`` after everything (a change nobody signed).
///
/// ```swift
/// var fixture = PolicyFixture.standard
/// _ = fixture.replace("projects/p1.yaml", "status: approved", "status: suspended")
/// let policy = try fixture.load()
/// ```
public struct PolicyFixture: Sendable {
    /// The IG officer `ig`'s signing key (its public half is in `root/1.yaml`).
    public static let key = SigningKey()
    /// The inactive IG officer `ig-old`'s key.
    public static let otherKey = SigningKey()
    /// Three local authorities in two regions.
    public static let reference = ReferenceCodes(
        regionOfLocalAuthority: ["E06000001": "E12000001", "E06000002": "E12000001", "E09000001": "E12000007"])
    /// The day decisions are taken on in tests.
    public static let today = CivilDate(year: 2026, month: 6, day: 15)!
    /// The day fixture files are signed on.
    public static let signingDate = CivilDate(year: 2026, month: 1, day: 2)!
    /// The fixture's IG officer, who signs fixture files.
    public static let signer = User(id: "ig", name: "Ida Governance", organisation: "sde", roles: [.igOfficer], active: true, trainingExpires: nil)

    /// The unsigned text of a policy root naming `keys` (id and key) with `threshold`.
    public static func rootText(version: Int = 1, threshold: Int = 1, keys: [(id: String, key: SigningKey)]) -> String {
        "# Test root.\nversion: \(version)\nthreshold: \(threshold)\nkeys:\n"
            + keys.map { "  - id: \($0.id)\n    public_key: \($0.key.publicKeyHex)\n" }.joined()
    }

    /// `text` (root `version`'s) signed by each of `signers`, on top of `previous`.
    public static func signedRoot(_ text: String, version: Int = 1, previous: PolicyRoot? = nil, by signers: [(id: String, key: SigningKey)]) throws
        -> String
    {
        var text = text
        for (id, key) in signers {
            text = try PolicySigning.signRoot(
                text: text, file: PolicyRoot.path(version: version), previous: previous, key: key, signer: id, date: signingDate
            ).text
        }
        return text
    }

    /// The standard root 1: `ig` and `ig-old`, threshold 1, signed by `ig`.
    public static let standardRoot: String = try! signedRoot(rootText(keys: [("ig", key), ("ig-old", otherKey)]), by: [("ig", key)])
    /// The standard root, parsed.
    public static let root: PolicyRoot = try! PolicySigning.roots(in: [PolicySourceFile(path: "root/1.yaml", bytes: Array(standardRoot.utf8))])[0]

    /// The files the manifest covers, by path, as YAML text.
    public var files: [String: String]
    /// The policy roots, by path (`root/1.yaml`, ...).
    public var roots: [String: String] = ["root/1.yaml": PolicyFixture.standardRoot]
    /// The key `ig` signs approvals with (the root must hold it for them to count).
    public var approvalKey = PolicyFixture.key
    /// Signed files (projects and queries) left unsigned.
    public var unsigned: Set<String> = []
    /// Edits applied after signing the approvals, before the manifest: (path, old, new).
    public var tampering: [(path: String, old: String, new: String)] = []
    /// Who signs the manifest (none: no manifest at all).
    public var manifestSigners: [(signer: String, key: SigningKey)] = [("ig", PolicyFixture.key)]
    /// The manifest's version.
    public var manifestVersion = 1
    /// Edits applied after the manifest is signed (including to the manifest and roots): (path, old, new).
    public var afterManifest: [(path: String, old: String, new: String)] = []

    /// A fixture of `files`.
    public init(files: [String: String]) {
        self.files = files
    }

    /// Replaces the first `old` in `path` with `new` (before signing); `false` when `old` is not there.
    public mutating func replace(_ path: String, _ old: String, _ new: String) -> Bool {
        guard let text = files[path], let range = text.range(of: old) else { return false }
        files[path] = text.replacingCharacters(in: range, with: new)
        return true
    }

    /// The latest root of ``roots`` that verifies (the standard root when they do not).
    public var latestRoot: PolicyRoot {
        let sources = roots.map { PolicySourceFile(path: $0.key, bytes: Array($0.value.utf8)) }
        return (try? PolicySigning.roots(in: sources))?.last ?? Self.root
    }

    /// The files as they would be on disk: approvals signed (unless listed in `unsigned`), tampered with, the roots
    /// added, the manifest signed, then edited after.
    public func signedFiles() throws -> [String: String] {
        var result: [String: String] = [:]
        let root = latestRoot
        for (path, text) in files {
            let signable = path.hasPrefix("projects/") || path.hasPrefix("queries/")
            result[path] =
                signable && !unsigned.contains(path)
                ? try PolicySigning.sign(text: text, file: path, key: approvalKey, signer: Self.signer, root: root, date: Self.signingDate) : text
        }
        try Self.apply(tampering, to: &result)
        if !manifestSigners.isEmpty {
            let covered = result.map { PolicySourceFile(path: $0.key, bytes: Array($0.value.utf8)) }
            result[PolicyManifest.file] = try PolicySigning.manifest(
                version: manifestVersion, covering: covered, signers: manifestSigners, date: Self.signingDate)
        }
        result.merge(roots) { _, root in root }
        try Self.apply(afterManifest, to: &result)
        return result
    }

    private static func apply(_ edits: [(path: String, old: String, new: String)], to files: inout [String: String]) throws {
        for edit in edits {
            guard let text = files[edit.path], let range = text.range(of: edit.old) else {
                throw FixtureError(message: "fixture edit: '\(edit.old)' not found in \(edit.path)")
            }
            files[edit.path] = text.replacingCharacters(in: range, with: edit.new)
        }
    }

    /// The signed files as the loader reads them.
    public func sources() throws -> [PolicySourceFile] {
        try signedFiles().map { PolicySourceFile(path: $0.key, bytes: Array($0.value.utf8)) }
    }

    /// The policy set the files make.
    public func load() throws -> PolicySet {
        try PolicySet.load(sources(), reference: Self.reference)
    }

    /// The standard set: researchers `res` (member of `p1`) and `res2`, IG officers `ig` and `ig-old` (inactive),
    /// regulators `reg` (cqc) and `reg2` (oflog), operator `op`; datasets `waits` and `discharges`; queries `q1` and `q2`;
    /// project `p1` (approved, 2026, window 2023Q1-2024Q4, threshold 20); release `r1` (q1 for cqc).
    public static var standard: PolicyFixture {
        PolicyFixture(files: [
            "users.yaml": """
            organisations:
              - {id: sde, name: Secure data environment}
              - {id: uni, name: A university}
              - {id: cqc, name: Care Quality Commission}
              - {id: oflog, name: Office for Local Government}
            users:
              - id: res
                name: Rae Searcher
                organisation: uni
                roles: [researcher]
                active: true
                training_expires: 2027-01-31
              - id: res2
                name: Second Researcher
                organisation: uni
                roles: [researcher]
                active: true
                training_expires: 2027-01-31
              - id: ig
                name: Ida Governance
                organisation: sde
                roles: [ig_officer]
                active: true
              - id: ig-old
                name: Former Officer
                organisation: sde
                roles: [ig_officer]
                active: false
              - id: reg
                name: Reggie Lator
                organisation: cqc
                roles: [regulator]
                active: true
              - id: reg2
                name: Olive Flog
                organisation: oflog
                roles: [regulator]
                active: true
              - id: op
                name: Opal Rator
                organisation: sde
                roles: [operator]
                active: true

            """,
            "disclosure-profiles.yaml": """
            profiles:
              - id: standard
                description: Research outputs.
                method: rounding
                threshold: 10
                rounding_base: 5
                dominance_n: 2
                dominance_k: 0.90
                p_percent: 0.10
                min_persons_for_mean: 10
                zeros_disclosive: false
              - id: publication
                description: Publications.
                method: rounding
                threshold: 10
                rounding_base: 5
                dominance_n: 2
                dominance_k: 0.90
                p_percent: 0.10
                min_persons_for_mean: 10
                zeros_disclosive: true

            """,
            "datasets.yaml": """
            datasets:
              - id: waits
                title: Requests and waits
                description: One row per request.
                view: datasets.request_waits
                person_key: person_id
                record_key: record_key
                period_column: period_date
                coverage: {from: 2022Q2, to: 2025Q1}
                dimensions:
                  - name: la_code
                    description: Local authority.
                    type: code_list
                    values: local_authorities
                    parent: region_code
                    partitions_persons: true
                  - name: region_code
                    description: Region.
                    type: code_list
                    values: regions
                    partitions_persons: true
                  - name: quarter
                    description: Quarter of request.
                    type: quarter
                    partitions_persons: false
                  - name: age_band
                    description: Age band.
                    type: age_band
                    values: ['18-64', '65-74', '75+']
                    partitions_persons: true
                  - name: support_reason
                    description: Support reason.
                    type: enumeration
                    values: [physical_support, memory_cognition, mental_health]
                    partitions_persons: false
                flags:
                  - name: assessed
                    description: Assessed.
                magnitudes:
                  - name: days_to_assessment
                    description: Days waited.
                    unit: days
                measures:
                  - name: persons
                    description: People.
                    kind: persons
                  - name: requests
                    description: Requests.
                    kind: events
                  - name: assessed_rate
                    description: Share assessed.
                    kind: rate
                    numerator: assessed
                  - name: median_days
                    description: Median days.
                    kind: median
                    column: days_to_assessment
              - id: discharges
                title: Discharges
                description: One row per discharge.
                view: datasets.hospital_discharges
                person_key: person_id
                record_key: record_key
                period_column: period_date
                coverage: {from: 2022Q2, to: 2025Q1}
                dimensions:
                  - name: la_code
                    description: Local authority.
                    type: code_list
                    values: local_authorities
                    partitions_persons: true
                flags:
                  - name: reablement
                    description: Reablement within 7 days.
                  - name: at_home
                    description: At home 91 days later.
                measures:
                  - name: persons
                    description: People.
                    kind: persons
                  - name: at_home_rate
                    description: At home among reabled.
                    kind: rate
                    numerator: at_home
                    denominator: reablement

            """,
            "queries/q1.yaml": """
            # Waits by local authority and quarter.
            id: q1
            title: Waits by LA
            description: Median wait by local authority and quarter.
            dataset: waits
            dimensions: [la_code, quarter]
            measures: [persons, median_days]
            filters:
              - flag: assessed
                equals: true
            parameters:
              - name: from
                description: First quarter.
                type: quarter
                bound: from
                required: true
              - name: to
                description: Last quarter.
                type: quarter
                bound: to
                required: true
              - name: reason
                description: One support reason.
                type: enumeration
                dimension: support_reason
                required: false
              - name: la
                description: One local authority.
                type: enumeration
                dimension: la_code
                required: false

            """,
            "queries/q2.yaml": """
            id: q2
            title: Reablement outcomes
            description: At home 91 days after reablement, by local authority.
            dataset: discharges
            dimensions: [la_code]
            measures: [persons, at_home_rate]

            """,
            "projects/p1.yaml": """
            # A current, approved project.
            id: p1
            title: Waits study
            purpose: Study waits.
            lawful_basis: Public task; research.
            status: approved
            members: [res]
            datasets: [waits]
            queries: [q1]
            disclosure:
              profile: standard
              overrides:
                threshold: 20
            start: 2026-01-01
            expiry: 2026-12-31
            data_window: {from: 2023Q1, to: 2024Q4}

            """,
            "releases.yaml": """
            releases:
              - id: r1
                title: Waits for CQC
                description: Waits by LA.
                query: q1
                parameters: {from: 2024Q1, to: 2024Q4}
                audience: [cqc]
                profile: publication

            """,
        ])
    }
}

/// A fixture that cannot be built as asked (an edit or tampering that finds nothing to change).
public struct FixtureError: Error, CustomStringConvertible {
    /// What was not found.
    public let message: String
    /// The message.
    public var description: String { message }
}
