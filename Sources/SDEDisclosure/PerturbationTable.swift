#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The parameters of the cell-key method (DESIGN section 7): how much noise a released count may carry.
///
/// The ONS (Census 2021 flexible tables) and the ABS (TableBuilder) publish counts this way; sdcTools' `cellKey` and
/// `ptable` packages describe the method. Every person has a secret record key; a cell's key is the sum of its distinct
/// persons' record keys modulo 2^32; the noise added to a count is read from the ``PerturbationTable`` at (true count,
/// cell key). The same population has the same key, so it gets the same noise in every query, project and release:
/// asking again, or re-slicing the question, averages nothing away.
public struct CellKeyPerturbation: Sendable, Hashable {
    /// The largest noise any count carries, D: a released count lies within `true - D ... true + D`.
    public var maxNoise: Int
    /// The variance V of the noise on counts well above the threshold (smaller just above it; see ``PerturbationTable``).
    public var variance: Double
    /// Magnitudes (sums) move by at most this share of the cell's largest contribution (ABS: perturbation scaled to
    /// the largest contributions).
    public var magnitudeShare: Double

    /// Parameters as given; ``DisclosureRules/validate()`` checks them.
    public init(maxNoise: Int, variance: Double, magnitudeShare: Double) {
        self.maxNoise = maxNoise
        self.variance = variance
        self.magnitudeShare = magnitudeShare
    }

    /// Why these parameters cannot make a table, or `nil`.
    public var problem: String? {
        guard (1...50).contains(maxNoise) else { return "the maximum noise must be in 1...50, not \(maxNoise)" }
        guard variance > 0, variance.isFinite, variance < Double(maxNoise * maxNoise) else {
            return "the noise variance must be in (0, \(maxNoise * maxNoise)), not \(variance)"
        }
        guard magnitudeShare > 0, magnitudeShare <= 1 else { return "the magnitude noise share must be in (0, 1], not \(magnitudeShare)" }
        return nil
    }
}

/// A perturbation table (ptable): for each true count, the noise to add as a function of the cell key.
///
/// How it is made (the maximum-entropy method of sdcTools' `ptable`): for a true count `i` at or above the threshold
/// `k`, the noise `j` takes the integer values of `max(-D, k - i) ... D` (so no released count falls below the threshold),
/// with probabilities `p(j) ∝ exp(a·j + b·j²)`, the distribution of largest entropy with mean 0 (unbiased) and variance
/// `min(V, 0.9 · lowest × D)` (`lowest` = the most negative allowed noise: near the threshold the noise can only go
/// down a little, which caps its variance; from `i = k + D` on the row is the same, with variance V). A count of
/// exactly `k` is therefore never moved (its noise would have to be both >= 0 and unbiased). Counts below `k` are
/// never released and a count of 0 never moves.
///
/// A row is kept as cumulative boundaries over the 2^32 cell keys, so a lookup is exact integer arithmetic and the
/// published distribution is exactly the table's: key `c` gets the first noise whose boundary is above `c`.
///
/// ```swift
/// let table = PerturbationTable(CellKeyPerturbation(maxNoise: 4, variance: 2.5, magnitudeShare: 0.1), threshold: 10)
/// table.noise(count: 57, cellKey: 0x9E37_79B9)   // an integer in -4...4, the same every time
/// ```
public struct PerturbationTable: Sendable, Hashable {
    /// One row of the table: the noise values in increasing order and the upper boundary of each in cell-key space.
    public struct Row: Sendable, Hashable {
        /// The smallest noise of the row; noise `lowest + n` has boundary `boundaries[n]`.
        public let lowest: Int
        /// Cumulative upper boundaries (exclusive) over `0 ..< 2^32`; the last is 2^32.
        public let boundaries: [UInt64]

        /// The probability of each noise value, lowest first.
        public var probabilities: [Double] {
            zip(boundaries, [0] + boundaries.dropLast()).map { Double($0 - $1) / Double(PerturbationTable.keySpace) }
        }
    }

    /// The number of cell keys, 2^32.
    public static let keySpace: UInt64 = 1 << 32

    /// The parameters the table was made from.
    public let parameters: CellKeyPerturbation
    /// The threshold below which nothing is released.
    public let threshold: Int
    /// Rows for true counts `threshold ... threshold + D`; larger counts use the last row.
    public let rows: [Row]

    /// The tables made so far, by parameters and threshold: making one solves a few hundred small problems.
    private static let made = Mutex<[Key: PerturbationTable]>([:])
    private struct Key: Hashable {
        let parameters: CellKeyPerturbation
        let threshold: Int
    }

    /// The table for `parameters` at `threshold`, made once per process and then shared.
    public static func shared(_ parameters: CellKeyPerturbation, threshold: Int) -> PerturbationTable {
        let key = Key(parameters: parameters, threshold: threshold)
        if let table = made.withLock({ $0[key] }) { return table }
        let table = PerturbationTable(parameters, threshold: threshold)
        made.withLock { $0[key] = table }
        return table
    }

    /// The table for `parameters` at `threshold` (valid parameters: see ``DisclosureRules/validate()``).
    public init(_ parameters: CellKeyPerturbation, threshold: Int) {
        self.parameters = parameters
        self.threshold = threshold
        let d = parameters.maxNoise
        rows = (0...d).map { above in
            let lowest = -min(d, above)
            return Self.row(lowest: lowest, highest: d, variance: min(parameters.variance, 0.9 * Double(-lowest * d)))
        }
    }

    /// The row used for a true count (`nil` for counts that never move: 0 and counts below the threshold).
    public func row(count: Int) -> Row? {
        guard count >= threshold, count > 0 else { return nil }
        return rows[min(count - threshold, rows.count - 1)]
    }

    /// The noise for a released count of `count` persons (or records) with cell key `cellKey`.
    public func noise(count: Int, cellKey: UInt32) -> Int {
        guard let row = row(count: count) else { return 0 }
        return Self.lookup(row, cellKey)
    }

    /// The noise of the unconstrained row (`-D ... D`, variance V), the row of every count at or above `threshold + D`.
    public func unconstrainedNoise(cellKey: UInt32) -> Int { Self.lookup(rows[rows.count - 1], cellKey) }

    /// ``unconstrainedNoise(cellKey:)`` as a share of D, in `-1 ... 1`: how magnitudes move.
    public func magnitudeNoise(cellKey: UInt32) -> Double { Double(unconstrainedNoise(cellKey: cellKey)) / Double(parameters.maxNoise) }

    private static func lookup(_ row: Row, _ cellKey: UInt32) -> Int {
        let key = UInt64(cellKey)
        var low = 0
        var high = row.boundaries.count - 1
        while low < high {
            let middle = (low + high) / 2
            if row.boundaries[middle] > key { high = middle } else { low = middle + 1 }
        }
        return row.lowest + low
    }

    /// The maximum-entropy row on `lowest ... highest` with mean 0 and `variance` (a point mass on 0 when `variance`
    /// is 0), quantised to cell-key boundaries.
    private static func row(lowest: Int, highest: Int, variance: Double) -> Row {
        let values = Array(lowest...highest)
        var probabilities = values.map { $0 == 0 ? 1.0 : 0.0 }
        if variance > 0 {
            // For a fixed b, the mean rises with a: bisect a to mean 0. Then the variance rises with b: bisect b.
            func distribution(_ b: Double) -> [Double] {
                var lowA = -50.0, highA = 50.0
                var p: [Double] = []
                for _ in 0..<64 {
                    let a = (lowA + highA) / 2
                    p = weights(values, a, b)
                    if zip(values, p).reduce(0, { $0 + Double($1.0) * $1.1 }) > 0 { highA = a } else { lowA = a }
                }
                return p
            }
            var lowB = -20.0, highB = 5.0
            for _ in 0..<64 {
                let b = (lowB + highB) / 2
                let p = distribution(b)
                if zip(values, p).reduce(0, { $0 + Double($1.0 * $1.0) * $1.1 }) > variance { highB = b } else { lowB = b }
            }
            probabilities = distribution((lowB + highB) / 2)
        }
        var boundaries: [UInt64] = []
        var cumulative = 0.0
        for p in probabilities {
            cumulative += p
            boundaries.append(min(keySpace, UInt64((cumulative * Double(keySpace)).rounded())))
        }
        boundaries[boundaries.count - 1] = keySpace
        return Row(lowest: lowest, boundaries: boundaries)
    }

    /// `exp(a·j + b·j²)` for each value, normalised (computed relative to the largest exponent, so nothing overflows).
    private static func weights(_ values: [Int], _ a: Double, _ b: Double) -> [Double] {
        let exponents = values.map { a * Double($0) + b * Double($0 * $0) }
        let top = exponents.max()!
        let w = exponents.map { exp($0 - top) }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }
}

/// Independent keys for the other quantities of one population, derived from its cell key: a bijection of the
/// 2^32 keys per salt, so each derived key is as uniform as the cell key and the same population always derives the
/// same one (an event count, a sum, a mean's sum and record count each get their own noise).
enum DerivedKey: UInt32 {
    case events = 0x5EED_0001
    case sum = 0x5EED_0002
    case meanSum = 0x5EED_0003
    case meanRecords = 0x5EED_0004

    /// The derived key of `key`.
    func of(_ key: UInt32) -> UInt32 { (key ^ rawValue) &* 0x9E37_79B1 &+ rawValue.byteSwapped }
}
