public import SDEDisclosure

/// The built-in floors of disclosure control: no profile (and so no project, whose overrides only tighten its
/// profile) may go under them, however many IG officers sign it. They are the one place these minimums live; a
/// profile under one fails to load, naming the key, the floor and this type.
///
/// Signatures stop whoever writes `Policies/` from loosening a profile alone; the floors stop the IG team too from
/// signing away the protection itself (a threshold of 1, noise that never moves a count).
///
/// ```swift
/// DisclosureFloors.violations(of: DisclosureRules(threshold: 1))   // [("threshold", "... under the built-in floor of 5 ...")]
/// ```
public enum DisclosureFloors {
    /// The least `threshold`: cells describing fewer persons are always suppressed.
    public static let threshold = 5
    /// The least `min_persons_for_mean`: no mean or median of fewer persons.
    public static let minPersonsForMean = 5
    /// Under the cell-key method, the least `max_noise`.
    public static let maxNoise = 1
    /// Under the cell-key method, the least `noise_variance` (a count must actually move).
    public static let noiseVariance = 0.5
    /// Under the cell-key method, the least `magnitude_noise`.
    public static let magnitudeNoise = 0.01
    /// The greatest `dominance_k` ((n,k) dominance is never switched off).
    public static let dominanceK = 0.95
    /// The least `p_percent` (the p% rule is never switched off).
    public static let pPercent = 0.05

    /// Each rule of `rules` under its floor: the YAML key and a message naming the floor.
    public static func violations(of rules: DisclosureRules) -> [(key: String, message: String)] {
        var found: [(key: String, message: String)] = []
        func under(_ key: String, _ value: String, _ floor: String, _ name: String, least: Bool = true) {
            let bound = least ? "under the built-in floor of" : "over the built-in ceiling of"
            found.append((key, "'\(key)' \(value) is \(bound) \(floor) (DisclosureFloors.\(name)); no signature can loosen it further"))
        }
        if rules.threshold < threshold { under("threshold", "\(rules.threshold)", "\(threshold)", "threshold") }
        if rules.minPersonsForMean < minPersonsForMean {
            under("min_persons_for_mean", "\(rules.minPersonsForMean)", "\(minPersonsForMean)", "minPersonsForMean")
        }
        if let noise = rules.perturbation {
            if noise.maxNoise < maxNoise { under("max_noise", "\(noise.maxNoise)", "\(maxNoise)", "maxNoise") }
            if noise.variance < noiseVariance { under("noise_variance", "\(noise.variance)", "\(noiseVariance)", "noiseVariance") }
            if noise.magnitudeShare < magnitudeNoise {
                under("magnitude_noise", "\(noise.magnitudeShare)", "\(magnitudeNoise)", "magnitudeNoise")
            }
        }
        if rules.dominanceK > dominanceK { under("dominance_k", "\(rules.dominanceK)", "\(dominanceK)", "dominanceK", least: false) }
        if rules.pPercent < pPercent { under("p_percent", "\(rules.pPercent)", "\(pPercent)", "pPercent") }
        return found
    }
}
