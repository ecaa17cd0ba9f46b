public import SDEDisclosure
public import SDEQuery
import Synchronization

/// Vetted-query statistics kept in memory by `sde-broker serve`, so that a query repeated on unchanged data skips its
/// statement, and, when the differencing ledger around it is unchanged too, the ledger read and the disclosure control.
///
/// An entry is keyed by the compiled query (SQL and binds: the dataset, window and filters) and holds the true
/// statistics with the data version (`broker.data_version`) they were computed at. It is used only after the same
/// request read that version as still current; every change to the linked data, and every migration, moves the
/// version on in its own transaction, so a cached table is the table the statement would return now. The entry also
/// keeps the earlier populations the ledger held around its cells, with the dataset's ledger version
/// (`broker.ledger_version`, moved on by every population recorded for the dataset) read in the same snapshot: while
/// both versions are unchanged, so are those populations. The last protection is kept with the rules and earlier
/// populations it was computed from: disclosure control is a pure function of these, the statistics and the cells'
/// populations (which the compiled query and the reference codes fix), so the same inputs give the same protected
/// table. Access checks, the version read and the audit event still happen on every request; nothing here is shared
/// with a caller who was not allowed the query.
///
/// Entries are bounded by ``capacity`` cells in all (statistics and protected cells, rows × measures, and earlier
/// populations); the least recently used go first.
public final class StatisticsCache: Sendable {
    /// The most cells kept over all entries.
    public let capacity: Int
    /// Told of every lookup of a run: `true` when the statement was skipped (for metrics).
    let onLookup: @Sendable (_ hit: Bool) -> Void
    private let state = Mutex(State())

    /// A cache of at most `capacity` cells; `onLookup` hears whether each run's statistics came from it.
    public init(capacity: Int, onLookup: @escaping @Sendable (_ hit: Bool) -> Void = { _ in }) {
        self.capacity = capacity
        self.onLookup = onLookup
    }

    /// The statistics of `query`, if kept, and the earlier populations read for them, if any.
    public func statistics(of query: CompiledQuery) -> (statistics: VersionedStatistics, prior: EarlierPopulations?)? {
        state.withLock { state in
            guard var entry = state.entries[query] else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            state.entries[query] = entry
            return (entry.statistics, entry.prior)
        }
    }

    /// Keeps `prior`, the ledger's earlier populations around `query`'s cells, if they were read at the data version of the
    /// statistics kept for it (and fit).
    public func storeEarlierPopulations(_ prior: EarlierPopulations, of query: CompiledQuery) {
        state.withLock { state in
            guard var entry = state.entries[query], entry.statistics.dataVersion == prior.versions.data else { return }
            entry.prior = prior
            state.replace(entry, of: query, capacity: capacity)
        }
    }

    /// Keeps `statistics` of `query` (replacing what was kept, and its protection), evicting the least recently used
    /// entries to stay within ``capacity``; a table bigger than the whole capacity is not kept.
    public func store(_ statistics: VersionedStatistics, of query: CompiledQuery) {
        state.withLock { state in
            state.clock += 1
            state.replace(Entry(statistics: statistics, lastUse: state.clock), of: query, capacity: capacity)
        }
    }

    /// The protection of `query`'s statistics at `version` under `rules` against `prior`: the one kept if it was made
    /// from exactly these, else what `protect` makes, which is then kept (while those statistics are).
    public func protectedTable(
        of query: CompiledQuery, at version: Int64, rules: DisclosureRules, prior: Set<CountedPopulation>, protect: () throws -> ProtectedTable
    ) rethrows -> ProtectedTable {
        let kept = state.withLock { state -> ProtectedTable? in
            guard let entry = state.entries[query], entry.statistics.dataVersion == version, let protection = entry.protection,
                protection.rules == rules, protection.prior == prior
            else { return nil }
            return protection.table
        }
        if let kept { return kept }
        let table = try protect()
        state.withLock { state in
            guard var entry = state.entries[query], entry.statistics.dataVersion == version else { return }
            entry.protection = Protection(rules: rules, prior: prior, table: table)
            state.replace(entry, of: query, capacity: capacity)
        }
        return table
    }

    /// How many queries and cells are kept.
    public var size: (entries: Int, cells: Int) {
        state.withLock { ($0.entries.count, $0.cells) }
    }

    private struct State {
        var entries: [CompiledQuery: Entry] = [:]
        var cells = 0
        var clock: UInt64 = 0

        /// Puts `entry` in place of what `query` had, evicting the least recently used other entries until all fit;
        /// an entry bigger than the whole capacity is dropped instead.
        mutating func replace(_ entry: Entry, of query: CompiledQuery, capacity: Int) {
            if let old = entries.removeValue(forKey: query) { cells -= old.cells }
            guard entry.cells <= capacity else { return }
            while cells + entry.cells > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                entries.removeValue(forKey: oldest.key)
                cells -= oldest.value.cells
            }
            entries[query] = entry
            cells += entry.cells
        }
    }

    private struct Entry {
        let statistics: VersionedStatistics
        var lastUse: UInt64
        var prior: EarlierPopulations? = nil
        var protection: Protection? = nil

        /// What the entry holds, in cells: the statistics, the protected table and the earlier populations.
        var cells: Int {
            let table = statistics.statistics.rows.count * max(1, statistics.statistics.measures.count)
            return table + (protection == nil ? 0 : table) + (prior?.populations.count ?? 0)
        }
    }

    private struct Protection {
        let rules: DisclosureRules
        let prior: Set<CountedPopulation>
        let table: ProtectedTable
    }
}
