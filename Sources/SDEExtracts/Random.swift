#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SplitMix64: expands a seed into well-mixed 64-bit words (used to seed ``Xoshiro256``).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman and Vigna): the generator's own seeded PRNG, so the same seed gives the same bytes
/// on every platform and Swift version.
struct Xoshiro256: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    /// A generator for one independent `stream` (for example one person) of a `seed`.
    init(seed: UInt64, stream: UInt64 = 0) {
        var mix = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s0 = mix.next()
        s1 = mix.next()
        s2 = mix.next()
        s3 = mix.next()
    }

    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Uniform integer in `range` (the tiny modulo bias is irrelevant for synthetic data and keeps the stream fixed).
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A standard normal variate (Box-Muller).
    mutating func normal() -> Double {
        let u = 1 - unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit())
    }

    /// Log-normal with the given median and shape `sigma`.
    mutating func logNormal(median: Double, sigma: Double) -> Double { median * exp(sigma * normal()) }

    /// Exponential with the given mean.
    mutating func exponential(mean: Double) -> Double { -mean * log(1 - unit()) }
}

/// A fixed discrete distribution: values with integer weights, sampled by one draw.
struct Weighted<Value> {
    private let values: [Value]
    private let cumulative: [UInt64]

    init(_ table: KeyValuePairs<Value, Int>) {
        var values: [Value] = []
        var cumulative: [UInt64] = []
        var total: UInt64 = 0
        for (value, weight) in table where weight > 0 {
            total += UInt64(weight)
            values.append(value)
            cumulative.append(total)
        }
        precondition(total > 0, "a weighted table needs a positive weight")
        self.values = values
        self.cumulative = cumulative
    }

    init(values: [Value], weights: [Int]) {
        var total: UInt64 = 0
        self.cumulative = weights.map {
            total += UInt64(max(0, $0)); return total
        }
        self.values = values
        precondition(total > 0, "a weighted table needs a positive weight")
    }

    func sample(_ rng: inout Xoshiro256) -> Value {
        let x = rng.next() % cumulative[cumulative.count - 1]
        var lo = 0
        var hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > x { hi = mid } else { lo = mid + 1 }
        }
        return values[lo]
    }
}
