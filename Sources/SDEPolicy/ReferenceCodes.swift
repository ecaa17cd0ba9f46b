/// The reference code lists that dimensions name symbolically (`values: local_authorities`), supplied to the loader.
///
/// The broker loads them from `Sql/local_authorities.csv` (columns `la_code,la_name,region_code,region_name`):
///
/// ```swift
/// let codes = try ReferenceCodes(localAuthoritiesCSV: csvText)
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

    /// Parses the local authority CSV (header `la_code,la_name,region_code,region_name`; fields may be double-quoted).
    public init(localAuthoritiesCSV text: String) throws {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first, ReferenceCodes.fields(header) == ["la_code", "la_name", "region_code", "region_name"] else {
            throw PolicyError.unreadable("local authorities CSV", "expected the header la_code,la_name,region_code,region_name")
        }
        lines.removeFirst()
        var map: [String: String] = [:]
        for (index, line) in lines.enumerated() {
            guard let fields = ReferenceCodes.fields(line), fields.count == 4, !fields[0].isEmpty, !fields[2].isEmpty,
                map.updateValue(fields[2], forKey: fields[0]) == nil
            else {
                throw PolicyError.unreadable("local authorities CSV", "line \(index + 2) is malformed or repeats a code")
            }
        }
        guard !map.isEmpty else { throw PolicyError.unreadable("local authorities CSV", "no local authorities") }
        self.init(regionOfLocalAuthority: map)
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

    /// Splits one CSV line; nil when a quoted field is not closed.
    private static func fields(_ line: String) -> [String]? {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = Array(line).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        current.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        guard !quoted else { return nil }
        fields.append(current)
        return fields
    }
}
