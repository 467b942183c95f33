/// The outcome of one op at one shape: candidate against reference on the same random inputs.
public struct ConformanceResult: Sendable {
    public var op: String
    public var shape: String
    /// ‖candidate − reference‖ / ‖reference‖ (0 for exact checks that passed).
    public var relativeError: Double
    public var bound: Double
    /// Elements the candidate left unwritten (still the poison) or NaN.
    public var poisoned: Int

    public var passed: Bool { poisoned == 0 && relativeError <= bound && !relativeError.isNaN }
}

/// Seeded uniform values, so a failing case can be rerun exactly.
struct ConformanceRandom {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-scale, scale).
    mutating func values(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }

    mutating func index(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
