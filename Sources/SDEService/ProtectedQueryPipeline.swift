import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEQuery

/// The part of answering a vetted query that researchers' runs and regulator releases share: compile, execute as the
/// read-only role, protect (primary rules, the differencing guard against the populations released before in any
/// answer over the same dataset and against the table's own margins, secondary suppression, attacker audit) and,
/// holding the dataset's ledger lock, record the populations this table releases, before anything is audited or
/// shown. A ledger failure throws: the caller releases nothing.
///
/// The statement and a first protection run before the lock is taken, so runs over one dataset wait for each other
/// only for reading and writing the ledger: what matters is that each run is checked against every population released
/// before it took the lock, which the second read under the lock guarantees. A run whose released populations are all
/// in the ledger already with the same true counts (a repeat on unchanged data) takes no lock.
///
/// With a ``StatisticsCache``, a query repeated on unchanged data takes its statistics (and, against unchanged earlier
/// populations, its protection) from the cache, and its earlier populations too while the dataset's ledger version is
/// unchanged.
public struct ProtectedQueryPipeline: Sendable {
    /// Where statements run and the ledger is kept.
    public let store: any ProtectedQueryStore
    /// Statistics of repeated queries on unchanged data, if kept.
    public let cache: StatisticsCache?

    /// A pipeline over `store`, with `cache` if given.
    public init(store: any ProtectedQueryStore, cache: StatisticsCache? = nil) {
        self.store = store
        self.cache = cache
    }

    /// The protected table of `run`, its released populations already in the ledger under `source`.
    func protectedTable(_ run: AuthorizedQuery, source: LedgerSource, in db: any ProtectedQuerySession) async throws -> ProtectedTable {
        let compiled = try QueryCompiler.compile(run)
        let dataset = compiled.population.dataset, threshold = run.rules.threshold
        let control = DisclosureControl(rules: run.rules)
        // Protect against the ledger as it is now, outside the lock (the attacker audit can take tens of milliseconds).
        let (versioned, cells, seen) = try await statisticsAndEarlierPopulations(compiled, run.reference, threshold, in: db)
        let statistics = versioned.statistics
        let input = DifferencingInput(cells: cells)
        let protect = { (earlier: Set<CountedPopulation>) in
            try control.protect(statistics, differencing: DifferencingInput(cells: cells, earlier: earlier))
        }
        let table =
            try cache?.protectedTable(of: compiled, at: versioned.dataVersion, rules: run.rules, prior: seen.populations) { try protect(seen.populations) }
            ?? protect(seen.populations)
        let released = input.released(table, of: statistics)
        // A repeat of an earlier run on unchanged data releases only populations the ledger already holds with the same
        // true counts: nothing new to guard or record, so no lock. (Every later run that recorded populations was
        // checked against these under the lock, and the ledger never loses one.)
        if seen.alreadyRecord(released) { return table }
        // Under the lock, check that no other run recorded a relevant population meanwhile; protect again only if one did.
        return try await db.withLedgerLock(dataset) {
            let earlier = try await db.earlierPopulations(around: input.counted(statistics), dataset: dataset, threshold: threshold)
            let protected = earlier.populations == seen.populations ? table : try protect(earlier.populations)
            try await db.record(input.released(protected, of: statistics), queryID: run.query.id, source: source)
            return protected
        }
    }

    /// The statistics of `compiled`, its cells' populations, and the ledger's earlier populations around them. From the
    /// cache when it holds the query at the current data version: with its earlier populations too when the dataset's
    /// ledger version is unchanged and they were read for this threshold (one round trip for both versions), else read
    /// again. Otherwise from the statement, then the ledger.
    private func statisticsAndEarlierPopulations(
        _ compiled: CompiledQuery, _ codes: ReferenceCodes, _ threshold: Int, in db: any ProtectedQuerySession
    ) async throws -> (VersionedStatistics, [[CellPopulations]], EarlierPopulations) {
        let dataset = compiled.population.dataset
        func read(_ statistics: StatisticsTable) async throws -> ([[CellPopulations]], EarlierPopulations) {
            let cells = try compiled.population.populations(of: statistics, codes: codes)
            let counted = DifferencingInput(cells: cells).counted(statistics)
            return (cells, try await db.earlierPopulations(around: counted, dataset: dataset, threshold: threshold))
        }
        if let cache, let kept = cache.statistics(of: compiled) {
            if let prior = kept.prior, prior.threshold == threshold {
                let versions = try await db.versions(of: dataset)
                if versions == prior.versions {
                    cache.onLookup(true)
                    return (kept.statistics, try compiled.population.populations(of: kept.statistics.statistics, codes: codes), prior)
                }
            }
            let (cells, seen) = try await read(kept.statistics.statistics)
            if seen.versions.data == kept.statistics.dataVersion {
                cache.storeEarlierPopulations(seen, of: compiled)
                cache.onLookup(true)
                return (kept.statistics, cells, seen)
            }
        }
        cache?.onLookup(false)
        let computed = try await db.statistics(of: compiled)
        cache?.store(computed, of: compiled)
        let (cells, seen) = try await read(computed.statistics)
        cache?.storeEarlierPopulations(seen, of: compiled)
        return (computed, cells, seen)
    }
}
