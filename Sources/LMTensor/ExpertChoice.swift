import Foundation

extension ExpertRouting {
    /// One token's experts, routed as transformers' Mixtral does: from its router probabilities
    /// (softmaxed; overwritten) the largest remaining one `topK` times, ties to the lower expert,
    /// the weights renormalised to sum to one when `renormalize`. Appends `topK` entries to each
    /// (expert -1, weight 0, where NaN probabilities leave nothing to choose).
    public func appendChoice(from probabilities: UnsafeMutableBufferPointer<Float>, experts: inout [Int], weights: inout [Float]) {
        var sum: Float = 0
        let first = weights.count
        for _ in 0..<topK {
            var best = -1
            for e in probabilities.indices where probabilities[e] >= 0 {
                if best < 0 || probabilities[e] > probabilities[best] { best = e }
            }
            // No probability left to take (NaN logits): expert -1, which no expert matches.
            guard best >= 0 else {
                experts.append(-1)
                weights.append(0)
                continue
            }
            experts.append(best)
            weights.append(probabilities[best])
            sum += probabilities[best]
            probabilities[best] = -1
        }
        if renormalize && sum > 0 {
            for slot in first..<weights.count { weights[slot] /= sum }
        }
    }

    /// Every token's experts from router logits [tokens, experts] (f32): a softmax per row, then
    /// `appendChoice`. For backends that route on the host (CUDA); the CPU backend softmaxes
    /// with its own kernel.   Returns [tokens * topK] experts and weights, token-major.
    public func route(logits: [Float], tokens: Int, experts expertCount: Int) -> (experts: [Int], weights: [Float]) {
        precondition(logits.count == tokens * expertCount && topK >= 1 && topK <= expertCount)
        var experts: [Int] = [], weights: [Float] = []
        experts.reserveCapacity(tokens * topK)
        weights.reserveCapacity(tokens * topK)
        var probabilities = [Float](repeating: 0, count: expertCount)
        for t in 0..<tokens {
            let row = logits[t * expertCount..<(t + 1) * expertCount]
            let largest = row.max()!
            var total: Float = 0
            for (e, logit) in row.enumerated() {
                probabilities[e] = Foundation.exp(logit - largest)
                total += probabilities[e]
            }
            for e in 0..<expertCount { probabilities[e] /= total }
            probabilities.withUnsafeMutableBufferPointer { appendChoice(from: $0, experts: &experts, weights: &weights) }
        }
        return (experts, weights)
    }
}
