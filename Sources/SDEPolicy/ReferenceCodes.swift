/// The reference code lists that dimensions name symbolically (`values: local_authorities`), supplied to the loader.
///
/// The broker builds them from `Sql/local_authorities.csv`, parsed once by `LocalAuthority.load(from:)`:
///
/// ```swift
/// let codes = ReferenceCodes(regionOfLocalAuthority: ["E06000001": "E12000001"])
/// codes.region(of: "E06000001")   // "E12000001"
/// ```
public struct ReferenceCodes: Sendable, Hashable {
    /// Region code of each local authority code.
    public let regionOfLocalAuthority: [String: String]
    /// Every region code.
    public let regions: Set<String>

    /// Codes from a local authority → region map; the regions are the map's values.
    public init(regionOfLocalAuthority: [String: String]) {
        self.regionOfLocalAuthority = regionOfLocalAuthority
        self.regions = Set(regionOfLocalAuthority.values)
    }

    /// The region a local authority belongs to.
    public func region(of localAuthority: String) -> String? { regionOfLocalAuthority[localAuthority] }

    /// Whether `value` is one of the codes of `list`.
    public func contains(_ value: String, in list: ReferenceList) -> Bool {
        switch list {
        case .localAuthorities: regionOfLocalAuthority[value] != nil
        case .regions: regions.contains(value)
        }
    }

    /// Whether `value` is allowed by `values` (quarters are checked against windows, not here).
    func allows(_ value: String, in values: DimensionValues) -> Bool {
        switch values {
        case .listed(let list): list.contains(value)
        case .reference(let list): contains(value, in: list)
        case .quarters: false
        }
    }
}
