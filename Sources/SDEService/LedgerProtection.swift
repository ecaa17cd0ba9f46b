import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEQuery
import SDEStore

/// The part of answering a vetted query that researchers' runs and regulator releases share: compile, execute as the
/// read-only role, then, holding the query's ledger lock, read the cells the query released before over nested
/// windows, protect (primary rules, differencing, secondary suppression, attacker audit) and record the cells this
/// table releases, before anything is audited or shown. A ledger failure throws: the caller releases nothing.
///
/// The statement runs before the lock is taken, so runs of one query wait for each other only for the ledger and the
/// protection: what matters is that each run is checked against every cell released before it took the lock.
struct LedgerProtection: Sendable {
    let executor: QueryExecutor

    /// The protected table of `run`, its released cells already in the ledger under `source`.
    func protectedTable(_ run: AuthorizedQuery, source: LedgerSource, on db: Database) async throws -> ProtectedTable {
        let compiled = try QueryCompiler.compile(run)
        let statistics = try await executor.run(compiled, on: db)
        let ledgerRun = Self.ledgerRun(run)
        return try await ReleaseLedger.withLock(run.query.id, on: db) {
            let prior = try await ReleaseLedger.priorCells(of: ledgerRun, in: statistics, on: db)
            let table = try DisclosureControl(rules: run.rules).protect(statistics, priorCells: prior)
            try await ReleaseLedger.record(table, of: statistics, run: ledgerRun, source: source, on: db)
            return table
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
