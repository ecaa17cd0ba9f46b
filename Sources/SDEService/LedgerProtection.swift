import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEQuery
import SDEStore

/// The part of answering a vetted query that researchers' runs and regulator releases share: compile, execute as the
/// read-only role, protect (primary rules, differencing against the cells the query released before over nested
/// windows, secondary suppression, attacker audit) and, holding the query's ledger lock, record the cells this table
/// releases, before anything is audited or shown. A ledger failure throws: the caller releases nothing.
///
/// The statement and a first protection run before the lock is taken, so runs of one query wait for each other only
/// for reading and writing the ledger: what matters is that each run is checked against every cell released before it
/// took the lock, which the second read under the lock guarantees. A run whose released cells are all in the ledger
/// already, under its own window and filters with the same true counts (a repeat on unchanged data), takes no lock.
///
/// With a ``StatisticsCache``, a query repeated on unchanged data takes its statistics (and, against unchanged earlier
/// cells, its protection) from the cache, and its earlier cells too while the query's ledger version is unchanged.
struct LedgerProtection: Sendable {
    let executor: QueryExecutor
    let cache: StatisticsCache?

    /// The protected table of `run`, its released cells already in the ledger under `source`.
    func protectedTable(_ run: AuthorizedQuery, source: LedgerSource, on db: Database) async throws -> ProtectedTable {
        let compiled = try QueryCompiler.compile(run)
        let ledgerRun = Self.ledgerRun(run)
        let control = DisclosureControl(rules: run.rules)
        // Protect against the ledger as it is now, outside the lock (the attacker audit can take tens of milliseconds).
        let (versioned, seen) = try await statisticsAndPriorCells(compiled, ledgerRun, on: db)
        let statistics = versioned.statistics
        let protect = { try control.protect(statistics, priorCells: Array(seen.cells)) }
        let table = try cache?.protectedTable(of: compiled, at: versioned.dataVersion, rules: run.rules, prior: seen.cells, protect: protect) ?? protect()
        // A repeat of an earlier run on unchanged data releases only cells the ledger already holds under this run's key
        // with the same true counts: nothing new to guard or record, so no lock. (Every later run that recorded cells was
        // checked against these under the lock, and the ledger never loses a cell.)
        if seen.alreadyRecord(ReleaseLedger.releasedCells(table, of: statistics)) { return table }
        // Under the lock, check that no other run recorded a relevant cell meanwhile, and protect again only if one did.
        return try await ReleaseLedger.withLock(run.query.id, on: db) {
            let prior = try await ReleaseLedger.priorCells(of: ledgerRun, in: statistics, on: db)
            let protected = prior.cells == seen.cells ? table : try control.protect(statistics, priorCells: Array(prior.cells))
            try await ReleaseLedger.record(protected, of: statistics, run: ledgerRun, source: source, on: db)
            return protected
        }
    }

    /// The statistics of `compiled` and the ledger's earlier cells for its rows. From the cache when it holds the query
    /// at the current data version: with its earlier cells too when the query's ledger version is unchanged (one round
    /// trip for both versions), else read again. Otherwise from the statement, then the ledger.
    private func statisticsAndPriorCells(
        _ compiled: CompiledQuery, _ ledgerRun: LedgerRun, on db: Database
    ) async throws -> (VersionedStatistics, PriorCells) {
        if let cache, let kept = cache.statistics(of: compiled) {
            if let prior = kept.prior {
                let versions = try await ReleaseLedger.versions(of: ledgerRun.queryID, on: db)
                if versions == prior.versions {
                    cache.onLookup(true)
                    return (kept.statistics, prior)
                }
            }
            let seen = try await ReleaseLedger.priorCells(of: ledgerRun, in: kept.statistics.statistics, on: db)
            if seen.versions.data == kept.statistics.dataVersion {
                cache.storePriorCells(seen, of: compiled)
                cache.onLookup(true)
                return (kept.statistics, seen)
            }
        }
        cache?.onLookup(false)
        let computed = try await executor.versionedRun(compiled, on: db)
        cache?.store(computed, of: compiled)
        let seen = try await ReleaseLedger.priorCells(of: ledgerRun, in: computed.statistics, on: db)
        cache?.storePriorCells(seen, of: compiled)
        return (computed, seen)
    }

    /// The ledger's key of `run`: the query, its period as days, and its non-window (enumeration) parameters.
    static func ledgerRun(_ run: AuthorizedQuery) -> LedgerRun {
        let windowParameters = Set(run.query.parameters.filter { if case .quarter = $0.kind { true } else { false } }.map(\.name))
        return LedgerRun(
            queryID: run.query.id, window: run.parameters.period.firstDay...run.parameters.period.lastDay,
            parameters: run.parameters.values.filter { !windowParameters.contains($0.key) })
    }
}
