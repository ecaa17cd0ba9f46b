public import SDECommon

/// One policy file's bytes, named by its path relative to the policy directory (`users.yaml`, `projects/P2025-001.yaml`).
public struct PolicySourceFile: Sendable, Hashable {
    /// Path relative to the policy directory, `/`-separated; it decides what the file holds.
    public let path: String
    /// The raw bytes.
    public let bytes: [UInt8]

    /// Creates a source file.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
}

/// A complete, validated policy set: users, datasets, disclosure profiles, vetted queries, projects and releases.
///
/// Loading is strict and reports every problem at once; decisions are pure functions of the set (see
/// ``decide(user:action:now:)``).
///
/// ```swift
/// let policy = try PolicySet.load(files, reference: codes)
/// policy.digest                         // SHA-256 of the canonical form of every file
/// policy.decide(user: "r-priya", action: .runQuery(project: "P2025-001", query: "discharge-reablement-by-la",
///     parameters: ["from": "2023Q2", "to": "2024Q1"]), now: today)
/// ```
public struct PolicySet: Sendable {
    /// Organisations by id.
    public let organisations: [String: Organisation]
    /// Users by id.
    public let users: [String: User]
    /// Datasets by id.
    public let datasets: [String: Dataset]
    /// Disclosure profiles by id.
    public let profiles: [String: DisclosureProfile]
    /// Vetted queries by id.
    public let queries: [String: VettedQuery]
    /// Projects by id.
    public let projects: [String: Project]
    /// Releases by id.
    public let releases: [String: Release]
    /// The reference code lists the set was validated against.
    public let reference: ReferenceCodes
    /// Lower-case hex SHA-256 over the canonical JSON of the files the manifest covers (see ``canonicalForm``; the roots
    /// and the manifest are not part of it); recorded in every audit event.
    public let digest: String
    /// Problems that do not invalidate the set but will refuse requests (e.g. a project query whose dataset it may not use).
    public let warnings: [PolicyDiagnostic]
    /// How the set is signed: the verified chain of roots (the IG officers' keys) and the manifest covering every other file.
    public let trust: PolicyTrust

    /// The fixed file names at the top of a policy directory.
    public static let usersFile = "users.yaml"
    /// See ``usersFile``.
    public static let datasetsFile = "datasets.yaml"
    /// See ``usersFile``.
    public static let profilesFile = "disclosure-profiles.yaml"
    /// See ``usersFile``.
    public static let releasesFile = "releases.yaml"
    /// Directory of project files, one per project.
    public static let projectsDirectory = "projects"
    /// Directory of vetted query files, one per query.
    public static let queriesDirectory = "queries"

    /// The JSON whose canonical bytes the digest hashes: `{"format": "sde-policy-set/1", "files": {path: content}}`, each
    /// file's YAML converted to JSON (approvals included, comments and layout excluded).
    public static func canonicalForm(_ documents: [String: JSONValue]) -> JSONValue {
        .object(["format": .string("sde-policy-set/1"), "files": .object(documents)])
    }

    /// Loads and validates a policy set, reporting every problem at once.
    ///
    /// The set must be signed: `root/1.yaml` ... `root/<n>.yaml` a chain of roots, each signed by a threshold of the
    /// previous root's IG officers and of its own (``PolicyRoot``), and `manifest.yaml` signed by a threshold of the
    /// latest root's keys and listing the SHA-256 of every other file (``PolicyManifest``). Approvals verify only
    /// against the latest root's keys, and no disclosure profile may go under ``DisclosureFloors``. Whether the set
    /// rolls back what a broker accepted before is checked against its database (``PolicyTrust/admission(after:)``).
    ///
    /// - Throws: ``PolicyError`` with one ``PolicyDiagnostic`` per problem when anything is invalid.
    public static func load(_ files: [PolicySourceFile], reference: ReferenceCodes) throws(PolicyError) -> PolicySet {
        try load(files, reference: reference, checkingManifest: true)
    }

    /// ``load(_:reference:)``; without `checkingManifest` (only for `policy sign-manifest`, which validates a set before
    /// signing it) the manifest is ignored and the result's ``trust`` is unsigned: never put such a set in force.
    static func load(_ files: [PolicySourceFile], reference: ReferenceCodes, checkingManifest: Bool) throws(PolicyError) -> PolicySet {
        let log = DiagnosticLog()
        guard files.count <= PolicyLimits.maxFiles else {
            throw .invalidPolicy([PolicyDiagnostic(file: ".", line: 1, message: "more than \(PolicyLimits.maxFiles) policy files")])
        }
        var roots: [String: PolicyNode] = [:]
        var projectFiles: [(path: String, stem: String)] = []
        var queryFiles: [(path: String, stem: String)] = []
        var rootFiles: [(path: String, version: Int)] = []
        var covered: [PolicySourceFile] = []
        let fixed = [usersFile, datasetsFile, profilesFile, releasesFile]
        for file in files.sorted(by: { $0.path < $1.path }) {
            let parts = file.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if let version = PolicyTrustLoader.rootVersion(ofPath: file.path) {
                rootFiles.append((file.path, version))
            } else if file.path == PolicyManifest.file {
                // Read below; not covered by itself.
            } else if parts.count == 2, parts[1].hasSuffix(".yaml"), parts[0] == projectsDirectory || parts[0] == queriesDirectory {
                let stem = String(parts[1].dropLast(".yaml".count))
                if parts[0] == projectsDirectory { projectFiles.append((file.path, stem)) } else { queryFiles.append((file.path, stem)) }
                covered.append(file)
            } else if parts.count == 1 && fixed.contains(parts[0]) {
                covered.append(file)
            } else {
                log.error(
                    file.path, 1,
                    "unexpected policy file; a policy directory holds \(fixed.joined(separator: ", ")), projects/<id>.yaml, queries/<id>.yaml, "
                        + "\(PolicyManifest.file) and \(PolicyRoot.directory)/<version>.yaml")
                continue
            }
            if roots[file.path] != nil {
                log.error(file.path, 1, "file given twice")
                continue
            }
            if let root = PolicyYAML.parse(file.bytes, file: file.path, log: log) { roots[file.path] = root }
        }
        for name in fixed where !files.contains(where: { $0.path == name }) {
            log.error(name, 1, "missing required policy file \(name)")
        }
        let trust = PolicyTrustLoader.verify(rootFiles: rootFiles, nodes: roots, covered: covered, checkingManifest: checkingManifest, log: log)
        let context = PolicyLoader.Context(reference: reference, queryFiles: Set(queryFiles.map(\.stem)))
        context.signingKeys = trust.keys
        context.rootPath = trust.rootPath
        if let root = roots[usersFile] {
            let (organisations, users) = PolicyLoader.readUsers(root, file: usersFile, log: log)
            context.organisations = Dictionary(organisations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            context.users = Dictionary(users.map { ($0.value.id, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        if let root = roots[profilesFile] {
            let profiles = PolicyLoader.readProfiles(root, file: profilesFile, log: log)
            context.profiles = Dictionary(profiles.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
        if let root = roots[datasetsFile] {
            let datasets = PolicyLoader.readDatasets(root, file: datasetsFile, log: log)
            context.datasets = Dictionary(datasets.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
        for (path, stem) in queryFiles {
            guard let root = roots[path],
                let query = PolicyLoader.readQuery(
                    root, file: path, stem: stem, datasets: context.datasets, reference: reference, users: context.users,
                    keys: context.signingKeys, rootPath: context.rootPath, log: log)
            else { continue }
            context.queries[query.id] = query
        }
        var projects: [String: Project] = [:]
        for (path, stem) in projectFiles {
            guard let root = roots[path], let project = PolicyLoader.readProject(root, file: path, stem: stem, context: context, log: log)
            else { continue }
            projects[project.id] = project
        }
        var releases: [String: Release] = [:]
        if let root = roots[releasesFile] {
            for release in PolicyLoader.readReleases(root, file: releasesFile, context: context, log: log) { releases[release.id] = release }
        }
        guard log.isEmpty, let verified = trust.verified else { throw .invalidPolicy(log.sorted) }
        let coveredPaths = Set(covered.map(\.path))
        let canonical = canonicalForm(roots.filter { coveredPaths.contains($0.key) }.mapValues(\.json))
        return PolicySet(
            organisations: context.organisations, users: context.users, datasets: context.datasets, profiles: context.profiles,
            queries: context.queries, projects: projects, releases: releases, reference: reference,
            digest: Hex.sha256(canonical.canonicalBytes), warnings: context.warnings, trust: verified)
    }
}

/// The readers of each policy file kind (extensions in the files that define the types).
enum PolicyLoader {
    /// What the files read so far define, for resolving references in later files.
    final class Context {
        let reference: ReferenceCodes
        /// Ids of every query file present, loaded or not (so a broken query is not also reported as unknown).
        let queryFiles: Set<String>
        var organisations: [String: Organisation] = [:]
        var users: [String: User] = [:]
        var profiles: [String: DisclosureProfile] = [:]
        var datasets: [String: Dataset] = [:]
        var queries: [String: VettedQuery] = [:]
        /// The IG officers' keys of the latest root, which alone verify approvals, and that root's file.
        var signingKeys: [String: [UInt8]] = [:]
        var rootPath = PolicyRoot.path(version: 1)
        private(set) var warnings: [PolicyDiagnostic] = []

        init(reference: ReferenceCodes, queryFiles: Set<String>) {
            self.reference = reference
            self.queryFiles = queryFiles
        }

        func warn(_ file: String, _ line: Int, _ message: String) {
            warnings.append(PolicyDiagnostic(file: file, line: line, message: message))
        }
    }
}
