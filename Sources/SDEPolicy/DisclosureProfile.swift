public import SDEDisclosure

/// A named set of disclosure-control parameters (DESIGN section 7), e.g. `research-standard` or `publication`.
public struct DisclosureProfile: Sendable, Hashable {
    /// Stable identifier used by projects and releases.
    public let id: String
    /// What the profile is for.
    public let description: String
    /// The rules applied to every output cell.
    public let rules: DisclosureRules
}

/// The disclosure control a project applies: a base profile plus overrides that may only tighten it.
public struct ProjectDisclosure: Sendable, Hashable {
    /// The base ``DisclosureProfile`` id.
    public let profile: String
    /// The effective rules: the base profile with the project's overrides applied (never looser than the base).
    public let rules: DisclosureRules
}

extension PolicyLoader {
    /// The YAML keys of the disclosure rules, in file order.
    static let ruleKeys = [
        "threshold", "rounding_base", "dominance_n", "dominance_k", "p_percent", "min_persons_for_mean", "zeros_disclosive",
    ]

    /// Reads `disclosure-profiles.yaml`: a `profiles:` list.
    static func readProfiles(_ root: PolicyNode, file: String, log: DiagnosticLog) -> [DisclosureProfile] {
        guard let top = FieldReader(root, file: file, what: "the disclosure profiles file", allowed: ["profiles"], log: log) else {
            return []
        }
        var profiles: [DisclosureProfile] = []
        var ids: Set<String> = []
        for item in top.list("profiles", nonEmpty: true) ?? [] {
            guard let fields = FieldReader(item, file: file, what: "a disclosure profile", allowed: ["id", "description"] + ruleKeys, log: log)
            else { continue }
            let id = fields.identifier("id")
            let description = fields.string("description")
            let rules = readRules(fields, base: nil)
            guard let id, let description, let rules else { continue }
            guard ids.insert(id).inserted else {
                fields.error(fields.line(of: "id"), "duplicate disclosure profile id '\(id)'")
                continue
            }
            profiles.append(DisclosureProfile(id: id, description: description, rules: rules))
        }
        return profiles
    }

    /// Reads disclosure rules from `fields`: all keys required without a base; with a base, present keys override it.
    static func readRules(_ fields: FieldReader, base: DisclosureRules?) -> DisclosureRules? {
        let required = base == nil
        var rules = base ?? DisclosureRules()
        var ok = true
        func take<T>(_ value: T?, _ key: String, _ apply: (T) -> Void) {
            if let value { apply(value) } else if required || fields.has(key) { ok = false }
        }
        take(fields.int("threshold", required: required, in: 1...1_000_000), "threshold") { rules.threshold = $0 }
        take(fields.int("rounding_base", required: required, in: 1...1_000_000), "rounding_base") { rules.roundingBase = $0 }
        take(fields.int("dominance_n", required: required, in: 1...100), "dominance_n") { rules.dominanceN = $0 }
        take(fields.number("dominance_k", required: required, in: 0.01...1), "dominance_k") { rules.dominanceK = $0 }
        take(fields.number("p_percent", required: required, in: 0...1), "p_percent") { rules.pPercent = $0 }
        take(fields.int("min_persons_for_mean", required: required, in: 1...1_000_000), "min_persons_for_mean") {
            rules.minPersonsForMean = $0
        }
        take(fields.bool("zeros_disclosive", required: required), "zeros_disclosive") { rules.zerosDisclosive = $0 }
        return ok ? rules : nil
    }

    /// Names each rule in `rules` that is looser than in `base` (empty when `rules` is at least as strict).
    static func loosenedRules(_ rules: DisclosureRules, comparedTo base: DisclosureRules) -> [String] {
        var loosened: [String] = []
        func check(_ key: String, _ apply: (inout DisclosureRules) -> Void) {
            var single = base
            apply(&single)
            if !single.isAtLeastAsStrict(as: base) { loosened.append(key) }
        }
        check("threshold") { $0.threshold = rules.threshold }
        check("rounding_base") { $0.roundingBase = rules.roundingBase }
        check("dominance_n") { $0.dominanceN = rules.dominanceN }
        check("dominance_k") { $0.dominanceK = rules.dominanceK }
        check("p_percent") { $0.pPercent = rules.pPercent }
        check("min_persons_for_mean") { $0.minPersonsForMean = rules.minPersonsForMean }
        check("zeros_disclosive") { $0.zerosDisclosive = rules.zerosDisclosive }
        if loosened.isEmpty && !rules.isAtLeastAsStrict(as: base) { loosened.append("the combination of overrides") }
        return loosened
    }
}
