/// A counter-based random stream per request: draw `i` depends only on (seed, i), so a seeded
/// request samples the same tokens whatever else shares its batches. SplitMix64 mixing.
public struct RandomSource: Sendable {
    public let seed: UInt64
    public private(set) var counter: UInt64 = 0

    public init(seed: UInt64) { self.seed = seed }

    /// A seed from the system generator, for requests without one.
    public static func randomSeed() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double {
        counter += 1
        var z = seed &+ counter &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1.0p-53
    }
}
