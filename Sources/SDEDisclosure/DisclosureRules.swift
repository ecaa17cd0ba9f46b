/// The parameters of statistical disclosure control for one profile (DESIGN section 7).
///
/// A project may tighten its profile, never loosen it: see ``isAtLeastAsStrict(as:)``.
public struct DisclosureRules: Sendable, Hashable {
    /// Minimum distinct persons behind any released cell (threshold rule).
    public var threshold: Int
    /// The cell-key method's parameters: counts and magnitudes are perturbed (``PerturbationTable``). `nil` selects
    /// the rounding method instead (counts rounded to ``roundingBase``).
    public var perturbation: CellKeyPerturbation?
    /// Under the rounding method, released counts are rounded to a multiple of this base (1 means no rounding); 1
    /// under the cell-key method.
    public var roundingBase: Int
    /// (n,k) dominance: the top `dominanceN` persons may not hold `dominanceK` or more of a magnitude cell.
    public var dominanceN: Int
    /// (n,k) dominance share, in (0, 1].
    public var dominanceK: Double
    /// p% rule: a magnitude cell is suppressed when (total - top1 - top2) / top1 < p.
    public var pPercent: Double
    /// Minimum distinct persons behind a mean or median.
    public var minPersonsForMean: Int
    /// Whether a zero cell is disclosive (it reveals that nobody has the attribute).
    public var zerosDisclosive: Bool

    /// Creates a rule set; defaults are DESIGN section 7's, under the rounding method unless `perturbation` is given
    /// (then `roundingBase` must be 1).
    public init(
        threshold: Int = 10, perturbation: CellKeyPerturbation? = nil, roundingBase: Int = 5, dominanceN: Int = 2,
        dominanceK: Double = 0.90, pPercent: Double = 0.10, minPersonsForMean: Int = 10, zerosDisclosive: Bool = false
    ) {
        self.threshold = threshold
        self.perturbation = perturbation
        self.roundingBase = roundingBase
        self.dominanceN = dominanceN
        self.dominanceK = dominanceK
        self.pPercent = pPercent
        self.minPersonsForMean = minPersonsForMean
        self.zerosDisclosive = zerosDisclosive
    }

    /// True when every rule in `self` protects at least as much as the same rule in `base`: the same method, and under
    /// the cell-key method at least the same noise.
    public func isAtLeastAsStrict(as base: DisclosureRules) -> Bool {
        let noise: Bool
        switch (perturbation, base.perturbation) {
        case (nil, nil): noise = true
        case (let mine?, let theirs?):
            noise = mine.maxNoise >= theirs.maxNoise && mine.variance >= theirs.variance && mine.magnitudeShare >= theirs.magnitudeShare
        default: noise = false
        }
        return noise && threshold >= base.threshold
            && roundingBase >= base.roundingBase && roundingBase % base.roundingBase == 0
            && dominanceN >= base.dominanceN
            && dominanceK <= base.dominanceK
            && pPercent >= base.pPercent
            && minPersonsForMean >= base.minPersonsForMean
            && (zerosDisclosive || !base.zerosDisclosive)
    }
}
