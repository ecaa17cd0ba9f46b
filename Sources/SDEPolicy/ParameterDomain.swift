public import SDECommon

/// The values a vetted query's parameter accepts inside a project's data window, as the API's parameter schemas and
/// the console's parameter forms show them.
public enum ParameterDomain: Sendable, Hashable {
    /// A quarter from the range (the data window within the dataset's coverage).
    case quarters(QuarterRange)
    /// One of the values listed (empty when the dimension is unknown).
    case values([String])
}

extension PolicySet {
    /// The domain of `parameter` of `query` for a project whose data window is `window`.
    public func domain(of parameter: QueryParameter, in query: VettedQuery, window: QuarterRange) -> ParameterDomain {
        let dataset = datasets[query.dataset]
        switch parameter.kind {
        case .quarter:
            return .quarters(dataset.flatMap { window.intersection($0.coverage) } ?? window)
        case .enumeration(let dimension, let allowed):
            if let allowed { return .values(allowed) }
            switch dataset?.dimension(named: dimension)?.values {
            case .listed(let listed): return .values(listed)
            case .reference(.localAuthorities): return .values(reference.regionOfLocalAuthority.keys.sorted())
            case .reference(.regions): return .values(reference.regions.sorted())
            case .quarters, nil: return .values([])
            }
        }
    }
}

extension QuarterRange {
    /// The quarters in both ranges, or `nil` when they do not overlap.
    public func intersection(_ other: QuarterRange) -> QuarterRange? {
        QuarterRange(from: max(from, other.from), to: min(to, other.to))
    }

    /// Every quarter of the range, in order.
    public var quarters: [Quarter] { Array(sequence(first: from) { $0 < to ? $0.next : nil }) }
}
