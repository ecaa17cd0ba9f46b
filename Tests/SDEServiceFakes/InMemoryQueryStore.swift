public import SDEDisclosure
public import SDEQuery
public import SDEService
import Synchronization

/// The protected-query store in memory: statements return the statistics a test gives per query (by default every
/// row of the query's complete table at zero), and the differencing ledger, its versions and the release versions are
/// kept here, with the same rules as the store's: a population already recorded with the same count is not recorded
/// again, the dataset's ledger version moves on when one is, a ledger transaction that throws leaves nothing behind,
/// and ledger and release locks exclude each other's holders.
///
/// ```swift
/// let store = InMemoryQueryStore()
/// store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 40))
/// store.fail(.statement, with: .queryTimeout)
/// #expect(store.statementsRun == 0)
/// ```
public final class InMemoryQueryStore: ProtectedQueryStore, Sendable {
    /// How a query's statistics are made from its compiled form (which fixes the table's shape and complete rows).
    public typealias Statistics = @Sendable (CompiledQuery) throws -> StatisticsTable

    /// The steps of a session a test can make fail.
    public enum Step: Sendable, Hashable {
        /// Running a vetted query's statement.
        case statement
        /// Reading the ledger (earlier populations, versions).
        case ledgerRead
        /// Recording released populations in the ledger.
        case ledgerRecord
        /// Storing a release version.
        case releaseAppend
    }

    /// One population in the ledger, with what released it.
    public struct LedgerEntry: Sendable, Hashable {
        /// The population and its true count.
        public let population: CountedPopulation
        /// The vetted query that released it.
        public let queryID: String
        /// The project run or release that released it.
        public let source: LedgerSource
    }

    /// Where release versions go (and regulators read them).
    public let releases: InMemoryReleaseArchive
    private let state: Mutex<State>
    private let locks = NamedLocks()

    private struct State {
        var statistics: [String: Statistics] = [:]
        var fallback: Statistics
        var dataVersion: Int64 = 1
        var ledger: [String: [LedgerEntry]] = [:]
        var ledgerVersions: [String: Int64] = [:]
        var failures: [Step: PortFailure] = [:]
        var statementsRun = 0
        var reachable = true
    }

    /// A store appending release versions to `releases`, making statistics with `statistics` for every query not given
    /// its own (``FakeStatistics/zeros`` by default).
    public init(releases: InMemoryReleaseArchive = InMemoryReleaseArchive(), statistics: @escaping Statistics = FakeStatistics.zeros) {
        self.releases = releases
        self.state = Mutex(State(fallback: statistics))
    }

    /// Makes query `queryID`'s statement return what `statistics` makes.
    public func setStatistics(of queryID: String, _ statistics: @escaping Statistics) {
        state.withLock { $0.statistics[queryID] = statistics }
    }

    /// Makes every later `step` throw `failure` (`nil`: succeed again).
    public func fail(_ step: Step, with failure: PortFailure?) {
        state.withLock { $0.failures[step] = failure }
    }

    /// Sets whether the store answers readiness checks.
    public func setReachable(_ reachable: Bool) {
        state.withLock { $0.reachable = reachable }
    }

    /// Moves the data version on, as any change to the linked data does.
    public func changeData() {
        state.withLock { $0.dataVersion += 1 }
    }

    /// How many statements have run.
    public var statementsRun: Int { state.withLock { $0.statementsRun } }

    /// The ledger of `dataset`, in recording order.
    public func ledger(of dataset: String) -> [LedgerEntry] {
        state.withLock { $0.ledger[dataset] ?? [] }
    }

    public func withSession<Result: Sendable>(_ body: (any ProtectedQuerySession) async throws -> Result) async throws -> Result {
        try await body(Session(store: self))
    }

    public func answers(within timeout: Duration) async -> Bool {
        state.withLock { $0.reachable }
    }

    private func check(_ step: Step) throws(PortFailure) {
        if let failure = state.withLock({ $0.failures[step] }) { throw failure }
    }

    private struct Session: ProtectedQuerySession {
        let store: InMemoryQueryStore

        func statistics(of query: CompiledQuery) async throws -> VersionedStatistics {
            try store.check(.statement)
            let (make, version) = store.state.withLock { state in
                state.statementsRun += 1
                return (state.statistics[query.queryID] ?? state.fallback, state.dataVersion)
            }
            return VersionedStatistics(statistics: try make(query), dataVersion: version)
        }

        func versions(of dataset: String) async throws -> ChangeVersions {
            try store.check(.ledgerRead)
            return store.state.withLock { ChangeVersions(data: $0.dataVersion, ledger: $0.ledgerVersions[dataset] ?? 0) }
        }

        /// Every earlier population of `dataset` nested in one of `populations` or containing one, with a count within
        /// `threshold - 1` of its own: exactly what the store's probes narrow down to.
        func earlierPopulations(around populations: [CountedPopulation], dataset: String, threshold: Int) async throws -> EarlierPopulations {
            try store.check(.ledgerRead)
            return store.state.withLock { state in
                var earlier = EarlierPopulations()
                earlier.threshold = threshold
                earlier.versions = ChangeVersions(data: state.dataVersion, ledger: state.ledgerVersions[dataset] ?? 0)
                for entry in state.ledger[dataset] ?? [] {
                    let old = entry.population
                    let near = populations.contains { new in
                        abs(new.persons - old.persons) < threshold
                            && (old.population.isNested(in: new.population) || new.population.isNested(in: old.population))
                    }
                    if near { earlier.populations.insert(old) }
                }
                return earlier
            }
        }

        /// Holds the dataset's lock; like the store's transaction, a `body` that throws leaves the ledger as it was.
        func withLedgerLock<Result: Sendable>(_ dataset: String, _ body: () async throws -> Result) async throws -> Result {
            try await store.locks.withLock("ledger \(dataset)") {
                let saved = store.state.withLock { ($0.ledger[dataset], $0.ledgerVersions[dataset]) }
                do {
                    return try await body()
                } catch {
                    store.state.withLock {
                        $0.ledger[dataset] = saved.0
                        $0.ledgerVersions[dataset] = saved.1
                    }
                    throw error
                }
            }
        }

        func record(_ populations: [CountedPopulation], queryID: String, source: LedgerSource) async throws {
            try store.check(.ledgerRecord)
            store.state.withLock { state in
                for population in populations {
                    let dataset = population.population.dataset
                    guard !(state.ledger[dataset] ?? []).contains(where: { $0.population == population }) else { continue }
                    state.ledger[dataset, default: []].append(LedgerEntry(population: population, queryID: queryID, source: source))
                    state.ledgerVersions[dataset, default: 0] += 1
                }
            }
        }

        func withReleaseLock<Result: Sendable>(_ id: String, _ body: () async throws -> Result) async throws -> Result {
            try await store.locks.withLock("release \(id)", body)
        }

        func nextVersion(ofRelease id: String) async throws -> Int {
            store.releases.nextVersion(of: id)
        }

        func append(_ version: NewReleaseVersion) async throws -> StoredRelease {
            try store.check(.releaseAppend)
            return try store.releases.append(version)
        }
    }
}

/// Named asynchronous locks: one holder per name at a time, the others waiting in order (the store's advisory locks).
actor NamedLocks {
    private var held: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `body` holding `name`.
    nonisolated func withLock<Result: Sendable>(_ name: String, _ body: () async throws -> Result) async throws -> Result {
        await acquire(name)
        do {
            let result = try await body()
            await release(name)
            return result
        } catch {
            await release(name)
            throw error
        }
    }

    private func acquire(_ name: String) async {
        if held.insert(name).inserted { return }
        await withCheckedContinuation { waiting[name, default: []].append($0) }
    }

    /// Hands `name` to the next waiter, if any, or frees it.
    private func release(_ name: String) {
        if var queue = waiting[name], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[name] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(name)
        }
    }
}
