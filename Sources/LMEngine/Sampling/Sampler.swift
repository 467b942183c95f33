#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMTensor

/// A token chosen for a request, with its log-probability and the top alternatives when asked.
public struct SampledToken: Sendable, Equatable {
    public let token: Int32
    /// log p(token) under the model's raw distribution (before sampling transforms), when
    /// logprobs were requested.
    public let logprob: Float?
    public let topLogprobs: [(token: Int32, logprob: Float)]

    public static func == (a: SampledToken, b: SampledToken) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.topLogprobs.elementsEqual(b.topLogprobs) { $0.token == $1.token && $0.logprob == $1.logprob }
    }
}

/// The sampler: a chain of logits processors, then greedy choice or a seeded draw. The order
/// is vLLM's: bias, min-tokens mask, penalties, temperature, top-k, top-p, min-p.
public struct Sampler: Sendable {
    public var processors: [any LogitsProcessor] = [LogitBias(), MinTokensMask(), Penalties(), Temperature(), TopK(), TopP(), MinP()]

    public init() {}

    /// Chooses a token from `logits` (one row, modified in place) and records it in `state`.
    public func sample(_ logits: UnsafeMutableBufferPointer<Float>, _ state: inout SamplingState) -> SampledToken {
        let parameters = state.parameters
        let raw: [Float]? = parameters.logprobs != nil ? Array(logits) : nil
        for processor in processors where processor.applies(to: parameters) {
            if parameters.isGreedy, processor is Temperature || processor is TopK || processor is TopP || processor is MinP { continue }
            processor.process(logits, state)
        }
        let token: Int32
        if parameters.isGreedy {
            var best = 0
            for i in logits.indices where logits[i] > logits[best] { best = i }
            token = Int32(best)
        } else {
            let probabilities = softmax(logits)
            let u = state.random.nextUnit()
            var cumulative = 0.0, chosen = -1
            for (i, p) in probabilities.enumerated() where p > 0 {
                cumulative += p
                chosen = i
                if u < cumulative { break }
            }
            token = Int32(max(chosen, 0))
        }
        state.record(token)
        guard let raw, let k = parameters.logprobs else { return SampledToken(token: token, logprob: nil, topLogprobs: []) }
        return Self.logprobs(raw, token: token, top: k)
    }

    /// log-softmax of `raw` at `token`, and the `top` most likely tokens (the device's reference).
    static func logprobs(_ raw: [Float], token: Int32, top: Int) -> SampledToken {
        let values = raw.withUnsafeBufferPointer { TokenLogprobs($0, token: token, top: top) }
        return SampledToken(token: token, logprob: values.logprob, topLogprobs: Array(zip(values.topTokens, values.topLogprobs)))
    }
}
