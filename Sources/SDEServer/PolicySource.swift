public import SDEPolicy
import SDEExtracts
import SDEPolicyFiles

/// Where the policy set is read from: the policy directory, checked against the local authority reference list of
/// the SQL directory (`local_authorities.csv`, the one place its path is built).
public struct PolicySource: Sendable {
    /// The policy directory.
    public var directory: String
    /// The local authority reference list (`la_code,la_name,region_code,region_name`).
    public var localAuthoritiesPath: String

    /// The policy set in `directory`, checked against `<sqlDirectory>/local_authorities.csv`.
    public init(directory: String, sqlDirectory: String) {
        self.directory = directory
        self.localAuthoritiesPath = sqlDirectory + "/local_authorities.csv"
    }

    /// The local authority → region codes the loader checks dimension values against.
    public func referenceCodes() throws -> ReferenceCodes {
        let authorities = try LocalAuthority.load(from: localAuthoritiesPath)
        return ReferenceCodes(regionOfLocalAuthority: Dictionary(uniqueKeysWithValues: authorities.map { ($0.code, $0.regionCode) }))
    }

    /// A loader of the policy directory; the reference list is read once, now.
    public func loader() throws -> @Sendable () throws(PolicyError) -> PolicySet {
        let reference = try referenceCodes(), directory = directory
        return { () throws(PolicyError) in try PolicyDirectory.load(at: directory, reference: reference) }
    }

    /// The policy set now.
    public func load() throws -> PolicySet { try loader()() }
}
