public import SDECommon

/// One condition on a dataset view's rows: `column` takes one of ``values``, or, when ``values`` is `nil`, any
/// non-null value. A flag `assessed = true` is `assessed ∈ {"true"}`; a sum's "value is not null" is a `nil` set.
public struct PopulationPredicate: Sendable, Hashable {
    /// The view column the condition is on.
    public let column: String
    /// The values allowed, sorted and distinct; `nil` allows any non-null value. An empty set allows nothing.
    public let values: [String]?

    /// `column ∈ values`.
    public init(_ column: String, in values: some Sequence<String>) {
        self.column = column
        self.values = Set(values).sorted()
    }

    /// `column IS NOT NULL`.
    public init(notNull column: String) {
        self.column = column
        self.values = nil
    }

    /// Whether every row satisfying this condition satisfies `other` (a condition on the same column): a set implies
    /// any superset of it and "not null".
    public func implies(_ other: PopulationPredicate) -> Bool {
        guard column == other.column else { return false }
        guard let wanted = other.values else { return true }
        guard let values else { return false }
        return Set(values).isSubset(of: wanted)
    }

    /// Both conditions at once (same column): the intersection of the sets.
    func and(_ other: PopulationPredicate) -> PopulationPredicate {
        switch (values, other.values) {
        case (nil, _): other
        case (_, nil): self
        case (let mine?, let theirs?): PopulationPredicate(column, in: Set(mine).intersection(theirs))
        }
    }
}

/// The persons a released cell describes: the distinct persons with at least one row of a dataset view inside a date
/// window that satisfies every predicate (DESIGN section 7, the differencing guard).
///
/// Two populations are nested when one's window lies within the other's and its predicates imply every predicate of
/// the other: then each person of the first is a person of the second, and the difference of their counts is the
/// number of persons in one and not the other. Nested populations come from anywhere: a quarter cell and its window
/// total, a local authority and its region, a filtered and an unfiltered run, two vetted queries over one view.
///
/// ```swift
/// let window = CivilDate(year: 2024, month: 4, day: 1)!...CivilDate(year: 2024, month: 6, day: 30)!
/// let requests = Population(dataset: "request_waits", window: window, predicates: [PopulationPredicate("la_code", in: ["E06000001"])])
/// let assessed = requests.and([PopulationPredicate("assessed", in: ["true"])])
/// assessed.isNested(in: requests)   // true: the difference is the persons never assessed
/// ```
public struct Population: Sendable, Hashable {
    /// The dataset whose view the rows come from.
    public let dataset: String
    /// The first and last day of the rows' period.
    public let window: ClosedRange<CivilDate>
    /// The conditions, one per column, ordered by column.
    public let predicates: [PopulationPredicate]

    /// A population; several predicates on one column are one condition (their intersection).
    public init(dataset: String, window: ClosedRange<CivilDate>, predicates: [PopulationPredicate]) {
        self.dataset = dataset
        self.window = window
        var byColumn: [String: PopulationPredicate] = [:]
        for predicate in predicates { byColumn[predicate.column] = byColumn[predicate.column].map { $0.and(predicate) } ?? predicate }
        self.predicates = byColumn.values.sorted { $0.column < $1.column }
    }

    /// This population with `more` conditions too.
    public func and(_ more: [PopulationPredicate]) -> Population {
        Population(dataset: dataset, window: window, predicates: predicates + more)
    }

    /// This population with its window narrowed to `window` (the intersection; `nil` when they do not overlap).
    public func narrowed(to window: ClosedRange<CivilDate>) -> Population? {
        let from = max(self.window.lowerBound, window.lowerBound), to = min(self.window.upperBound, window.upperBound)
        guard from <= to else { return nil }
        return Population(dataset: dataset, window: from...to, predicates: predicates)
    }

    /// The condition on `column`, if any.
    public func predicate(on column: String) -> PopulationPredicate? { predicates.first { $0.column == column } }

    /// Whether every person of this population is a person of `other`: same dataset, this window within the other's,
    /// and every predicate of `other` implied by this population's predicate on the same column.
    public func isNested(in other: Population) -> Bool {
        guard dataset == other.dataset, other.window.lowerBound <= window.lowerBound, window.upperBound <= other.window.upperBound else {
            return false
        }
        var mine = predicates.makeIterator()
        var current = mine.next()
        for wanted in other.predicates {
            while let c = current, c.column < wanted.column { current = mine.next() }
            guard let c = current, c.implies(wanted) else { return false }
        }
        return true
    }

    /// Index terms of the predicates (dataset-qualified): `dataset|column` for every predicate, and
    /// `dataset|column=value` for a single-valued one, sorted. If this population is nested in another, its terms
    /// include all of the other's; so the terms find nested candidates, which ``isNested(in:)`` then decides.
    public var terms: [String] { Self.terms(dataset, predicates.map { ($0.column, $0.values) }) }

    /// Every term set a population containing this one can have: per predicate, either no term, the column's term
    /// (a set or "not null" on the column), or for a single value also its value's term. The term sets of the
    /// possible containers, which a lookup by exact term set can probe.
    public var containerTermSets: [[String]] {
        var sets: [[(String, [String]?)]] = [[]]
        for predicate in predicates {
            var options: [(String, [String]?)?] = [nil, (predicate.column, nil)]
            if let values = predicate.values, values.count == 1 { options.append((predicate.column, values)) }
            sets = sets.flatMap { set in options.map { option in option.map { set + [$0] } ?? set } }
        }
        return sets.map { Self.terms(dataset, $0) }
    }

    private static func terms(_ dataset: String, _ predicates: [(String, [String]?)]) -> [String] {
        var result: [String] = []
        for (column, values) in predicates {
            result.append("\(dataset)|\(column)")
            if let values, values.count == 1 { result.append("\(dataset)|\(column)=\(values[0])") }
        }
        return result.sorted()
    }
}

/// A released population with the true distinct persons it held: what the differencing ledger keeps.
public struct CountedPopulation: Sendable, Hashable {
    /// The population.
    public let population: Population
    /// Its true distinct persons when released.
    public let persons: Int

    /// A population and its count.
    public init(_ population: Population, persons: Int) {
        self.population = population
        self.persons = persons
    }
}
