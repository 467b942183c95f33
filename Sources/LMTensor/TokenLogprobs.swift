#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A drawn token's log-probability under its row's raw logits (before any edit or sampling
/// transform, as OpenAI and vLLM report them) and the `top` most likely tokens, most likely
/// first (ties: the lower id first). On a device it travels as `words` i32 values: the logprob's
/// bits, then (id, logprob bits) per top token.
public struct TokenLogprobs: Sendable, Equatable {
    public var logprob: Float
    public var topTokens: [Int32]
    public var topLogprobs: [Float]

    public init(logprob: Float, topTokens: [Int32], topLogprobs: [Float]) {
        self.logprob = logprob
        self.topTokens = topTokens
        self.topLogprobs = topLogprobs
    }

    /// i32 values a row takes on a device.
    public static func words(top: Int) -> Int { 1 + 2 * top }

    /// The reference: log-softmax at `token` (the sum of exponentials in double precision), and
    /// the `top` largest logits in that order; NaNs are left out.
    public init(_ raw: UnsafeBufferPointer<Float>, token: Int32, top: Int) {
        var maximum = -Float.infinity
        for value in raw where value > maximum { maximum = value }
        let logSum = Float(log(raw.reduce(0.0) { $1.isNaN ? $0 : $0 + exp(Double($1 - maximum)) })) + maximum
        var best: [Int32] = []
        if top > 0 {
            let k = min(top, raw.count)
            // A bounded sorted list: top is at most 20 (the API's limit).
            for i in raw.indices where !raw[i].isNaN {
                if best.count == k, !(raw[i] > raw[Int(best[k - 1])]) { continue }
                let at = best.firstIndex { raw[i] > raw[Int($0)] } ?? best.count
                best.insert(Int32(i), at: at)
                if best.count > k { best.removeLast() }
            }
        }
        self.init(logprob: raw[Int(token)] - logSum, topTokens: best, topLogprobs: best.map { raw[Int($0)] - logSum })
    }

    /// As a device holds it: `top` pairs, (-1, -inf) past the row's last number.
    public func words(top: Int) -> [Int32] {
        var words = [Int32(bitPattern: logprob.bitPattern)]
        for k in 0..<top {
            let known = k < topTokens.count
            words += [known ? topTokens[k] : -1, Int32(bitPattern: (known ? topLogprobs[k] : -Float.infinity).bitPattern)]
        }
        return words
    }

    /// From a device's `words` (`top` pairs after the logprob).
    public init(words: ArraySlice<Int32>, top: Int) {
        let w = Array(words)
        precondition(w.count == Self.words(top: top), "\(w.count) logprob words for top \(top)")
        func float(_ word: Int32) -> Float { Float(bitPattern: UInt32(bitPattern: word)) }
        var tokens: [Int32] = [], logprobs: [Float] = []
        for k in 0..<top where w[1 + 2 * k] >= 0 {
            tokens.append(w[1 + 2 * k])
            logprobs.append(float(w[2 + 2 * k]))
        }
        self.init(logprob: float(w[0]), topTokens: tokens, topLogprobs: logprobs)
    }
}
