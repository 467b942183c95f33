#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How one row of logits becomes a token on the device: temperature, then the top-k, top-p and
/// min-p filters, then the inverse CDF at `uniform` over the kept tokens in id order (the draw
/// is made by the caller from the request's seeded stream, so a seed means the same token on
/// every backend up to rounding). Penalties, biases and bans come first as `LogitEdit`s;
/// logprobs stay with the host sampler.
public struct SamplingRow: Sendable, Equatable {
    /// 0 takes the argmax (the first on ties).
    public var temperature: Float
    /// 0 keeps every token.
    public var topK: Int
    public var topP: Float
    public var minP: Float
    /// In [0, 1).
    public var uniform: Double

    public init(temperature: Float, topK: Int = 0, topP: Float = 1, minP: Float = 0, uniform: Double = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.uniform = uniform
    }

    public static let greedy = SamplingRow(temperature: 0)

    /// The reference for `Backend.sample`, in double precision: with e_i = exp((l_i − max) / T),
    /// keep e_i at or above the k-th largest e (top-k), at or above the smallest e of the shortest
    /// head holding top_p of the kept mass (top-p), and at or above min_p (min-p: e_max is 1);
    /// ties at a threshold are kept, as the host sampler keeps them. Returns the first id whose
    /// running kept mass passes uniform × the total.
    public func choose(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        guard let kept = keptWeights(logits) else { return Self.argmax(logits) }
        let target = uniform * kept.reduce(0, +)
        var running = 0.0, last = Int(Self.argmax(logits))
        for (i, value) in kept.enumerated() where value > 0 {
            running += value
            last = i
            if target < running { return Int32(i) }
        }
        return Int32(last)
    }

    /// e_i of the tokens the filters keep and 0 for the others; nil when the row is greedy.
    public func keptWeights(_ logits: UnsafeBufferPointer<Float>) -> [Double]? {
        if temperature == 0 || topK == 1 { return nil }
        let top = Double(logits[Int(Self.argmax(logits))])
        let e = logits.map { exp((Double($0) - top) / Double(temperature)) }
        var floor = 0.0
        if topK > 0, topK < e.count { floor = e.sorted(by: >)[topK - 1] }
        if topP < 1 {
            let kept = e.filter { $0 >= floor }.sorted(by: >)
            let goal = Double(topP) * kept.reduce(0, +)
            var mass = 0.0
            for value in kept {
                mass += value
                if mass >= goal { floor = max(floor, value); break }
            }
        }
        if minP > 0 { floor = max(floor, Double(minP)) }
        return e.map { $0 >= floor ? $0 : 0 }
    }

    /// The first index of the largest value.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return Int32(best)
    }
}
