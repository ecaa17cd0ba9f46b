public import SDEDisclosure
public import SDEQuery

/// A vetted query's statistics and the data version they were computed at (see ``QueryExecutor/versionedRun(_:on:)``).
public struct VersionedStatistics: Sendable {
    /// The statistics table.
    public let statistics: StatisticsTable
    /// `broker.data_version` as the statement's transaction began.
    public let dataVersion: Int64

    /// Statistics computed at `dataVersion`.
    public init(statistics: StatisticsTable, dataVersion: Int64) {
        self.statistics = statistics
        self.dataVersion = dataVersion
    }
}

/// What released a set of cells: a researcher's run under a project, or a regulator release.
public enum LedgerSource: Sendable, Hashable {
    /// A vetted query run under this project.
    case project(String)
    /// A published regulator release with this id.
    case release(String)

    /// `project` or `release`, as the ledger stores it.
    public var kind: String {
        switch self {
        case .project: "project"
        case .release: "release"
        }
    }

    /// The project or release id.
    public var id: String {
        switch self {
        case .project(let id), .release(let id): id
        }
    }
}

/// The change counters of migrations 0011 and 0013 as one snapshot saw them: `broker.data_version` (any change to the
/// linked data or the schema) and the dataset's `broker.ledger_version` (any population recorded for it; 0 before the
/// first).
public struct ChangeVersions: Sendable, Hashable {
    /// The data version.
    public let data: Int64
    /// The dataset's ledger version.
    public let ledger: Int64

    /// Versions as read.
    public init(data: Int64, ledger: Int64) {
        self.data = data
        self.ledger = ledger
    }
}

/// What the ledger holds around the populations of a table about to be released: every earlier population that may
/// contain one of them or be nested in one (candidates: the guard decides nesting exactly), read for a threshold.
public struct EarlierPopulations: Sendable, Hashable {
    /// Candidate populations released earlier, with their true counts; those with the same population and count as one
    /// of the table's are among them.
    public var populations: Set<CountedPopulation> = []
    /// The threshold k they were read for: counts differing from the table's by at least k were left out.
    public var threshold = 0
    /// The data and ledger versions in the snapshot the populations were read in.
    public var versions = ChangeVersions(data: 0, ledger: 0)

    /// Nothing, at versions 0 (before the ledger is read).
    public init() {}

    /// Whether every population of `released` is already in the ledger with the same true count: such a release tells
    /// nobody anything new, and recording it would add nothing (the ledger keeps each once).
    public func alreadyRecord(_ released: [CountedPopulation]) -> Bool { released.allSatisfy(populations.contains) }
}

/// Where protected tables are computed: the vetted queries' statements, the differencing ledger and the stored
/// regulator releases, one session (one database connection) per run, so that a lock taken in it covers what follows.
public protocol ProtectedQueryStore: Sendable {
    /// Runs `body` with one session.
    func withSession<Result: Sendable>(_ body: (any ProtectedQuerySession) async throws -> Result) async throws -> Result
    /// Whether the store answers within `timeout` (a readiness check).
    func answers(within timeout: Duration) async -> Bool
}

/// One session of a ``ProtectedQueryStore``.
public protocol ProtectedQuerySession: Sendable {
    /// Runs `query` as the read-only role and returns its statistics with the data version they were computed at.
    func statistics(of query: CompiledQuery) async throws -> VersionedStatistics
    /// The data version and `dataset`'s ledger version, read in one snapshot.
    func versions(of dataset: String) async throws -> ChangeVersions
    /// The populations of `dataset` released earlier that may contain one of `populations` or be nested in one, with a
    /// true count within `threshold - 1` of its own.
    func earlierPopulations(around populations: [CountedPopulation], dataset: String, threshold: Int) async throws -> EarlierPopulations
    /// Runs `body` holding `dataset`'s ledger lock (one transaction): no other run records populations of it meanwhile.
    func withLedgerLock<Result: Sendable>(_ dataset: String, _ body: () async throws -> Result) async throws -> Result
    /// Records the populations a released table's cells count, under `source`; call it inside ``withLedgerLock(_:_:)``.
    func record(_ populations: [CountedPopulation], queryID: String, source: LedgerSource) async throws
    /// Runs `body` holding release `id`'s publication lock, so that its versions stay in order.
    func withReleaseLock<Result: Sendable>(_ id: String, _ body: () async throws -> Result) async throws -> Result
    /// The version the next publication of release `id` gets.
    func nextVersion(ofRelease id: String) async throws -> Int
    /// Stores a release version (after its audit event committed).
    func append(_ version: NewReleaseVersion) async throws -> StoredRelease
}
