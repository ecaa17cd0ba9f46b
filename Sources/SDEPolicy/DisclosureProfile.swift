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
        "method", "threshold", "max_noise", "noise_variance", "magnitude_noise", "rounding_base", "dominance_n", "dominance_k", "p_percent",
        "min_persons_for_mean", "zeros_disclosive",
    ]

    /// The keys of each count-protection method; a key of the other method is an error.
    static let cellKeyKeys = ["max_noise", "noise_variance", "magnitude_noise"]
    static let roundingKeys = ["rounding_base"]

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
            for violation in DisclosureFloors.violations(of: rules) {
                fields.error(fields.line(of: violation.key), "profile '\(id)': \(violation.message)")
            }
            guard ids.insert(id).inserted else {
                fields.error(fields.line(of: "id"), "duplicate disclosure profile id '\(id)'")
                continue
            }
            profiles.append(DisclosureProfile(id: id, description: description, rules: rules))
        }
        return profiles
    }

    /// Reads disclosure rules from `fields`: all keys of the profile's method required without a base; with a base,
    /// present keys override it. `method` is `cell_key` (counts perturbed: `max_noise`, `noise_variance`,
    /// `magnitude_noise`) or `rounding` (`rounding_base`).
    static func readRules(_ fields: FieldReader, base: DisclosureRules?) -> DisclosureRules? {
        let required = base == nil
        var rules = base ?? DisclosureRules()
        var ok = true
        func take<T>(_ value: T?, _ key: String, _ apply: (T) -> Void) {
            if let value { apply(value) } else if required || fields.has(key) { ok = false }
        }
        var cellKey = base.map { $0.perturbation != nil }
        if let node = fields.node("method", required: required), let method = fields.text(node, "method") {
            switch method {
            case "cell_key": cellKey = true
            case "rounding": cellKey = false
            default:
                fields.error(node.line, "unknown method '\(method)'; methods are cell_key and rounding")
                ok = false
            }
        } else if required {
            ok = false
        }
        take(fields.int("threshold", required: required, in: 1...1_000_000), "threshold") { rules.threshold = $0 }
        if let cellKey {
            for key in cellKey ? roundingKeys : cellKeyKeys where fields.has(key) {
                fields.error(fields.line(of: key), "'\(key)' does not apply to the \(cellKey ? "cell_key" : "rounding") method")
                ok = false
            }
            if cellKey {
                let given = rules.perturbation
                let needed = required || given == nil
                // The lower bounds are the built-in floors (DisclosureFloors); the profile check names the others.
                let d = fields.int("max_noise", required: needed, in: DisclosureFloors.maxNoise...50) ?? given?.maxNoise
                let v = fields.number("noise_variance", required: needed, in: 0.01...2500) ?? given?.variance
                let share = fields.number("magnitude_noise", required: needed, in: DisclosureFloors.magnitudeNoise...1) ?? given?.magnitudeShare
                if let d, let v, let share {
                    rules.perturbation = CellKeyPerturbation(maxNoise: d, variance: v, magnitudeShare: share)
                    rules.roundingBase = 1
                    if let problem = rules.perturbation?.problem {
                        fields.error(fields.line(of: "noise_variance"), problem)
                        ok = false
                    }
                } else {
                    ok = false
                }
            } else {
                rules.perturbation = nil
                take(fields.int("rounding_base", required: required || base?.perturbation != nil, in: 1...1_000_000), "rounding_base") {
                    rules.roundingBase = $0
                }
            }
        }
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
        if (rules.perturbation == nil) != (base.perturbation == nil) { loosened.append("method") }
        if let mine = rules.perturbation, let theirs = base.perturbation {
            if mine.maxNoise < theirs.maxNoise { loosened.append("max_noise") }
            if mine.variance < theirs.variance { loosened.append("noise_variance") }
            if mine.magnitudeShare < theirs.magnitudeShare { loosened.append("magnitude_noise") }
        }
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
