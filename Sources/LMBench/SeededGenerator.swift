#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64: a small, fast, seedable generator, so a benchmark's prompts, lengths and arrival
/// times are the same on every run with the same `--seed`.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: safe under a logarithm.
    mutating func nextOpenUnit() -> Double { (Double(next() >> 11) + 1) * 0x1.0p-53 }

    /// Standard normal (Box–Muller).
    mutating func nextGaussian() -> Double {
        let u = nextOpenUnit(), v = nextOpenUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
