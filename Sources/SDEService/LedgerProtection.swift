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
struct LedgerProtection: Sendable {
    let executor: QueryExecutor

    /// The protected table of `run`, its released cells already in the ledger under `source`.
    func protectedTable(_ run: AuthorizedQuery, source: LedgerSource, on db: Database) async throws -> ProtectedTable {
        let compiled = try QueryCompiler.compile(run)
        let statistics = try await executor.run(compiled, on: db)
        let ledgerRun = Self.ledgerRun(run)
        let control = DisclosureControl(rules: run.rules)
        // Protect against the ledger as it is now, outside the lock (the attacker audit can take tens of milliseconds).
        let seen = try await ReleaseLedger.priorCells(of: ledgerRun, in: statistics, on: db)
        let table = try control.protect(statistics, priorCells: Array(seen.cells))
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

    /// The ledger's key of `run`: the query, its period as days, and its non-window (enumeration) parameters.
    static func ledgerRun(_ run: AuthorizedQuery) -> LedgerRun {
        let windowParameters = Set(run.query.parameters.filter { if case .quarter = $0.kind { true } else { false } }.map(\.name))
        return LedgerRun(
            queryID: run.query.id, window: run.parameters.period.firstDay...run.parameters.period.lastDay,
            parameters: run.parameters.values.filter { !windowParameters.contains($0.key) })
    }
}
