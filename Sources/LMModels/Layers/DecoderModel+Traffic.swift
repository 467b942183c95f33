import LMTensor

extension DecoderModel {
    /// Weight bytes one decode step reads: every matrix once (routed experts in proportion
    /// top-k / count), norms and biases, the LM head, and one embedding row. Benchmarks divide
    /// it by the step time to report achieved bandwidth.
    public var weightBytesPerToken: Int {
        func bytes(_ t: Tensor?) -> Int { t?.byteCount ?? 0 }
        var total = bytes(weights.lmHead) + bytes(weights.finalNorm)
        total += weights.embedding.byteCount / max(spec.vocabSize, 1)
        for layer in weights.layers {
            let a = layer.attention
            total += [a.query, a.key, a.value, a.output, layer.inputNorm, layer.feedForwardNorm].map(\.byteCount).reduce(0, +)
            total += bytes(layer.attentionOutputNorm) + bytes(layer.feedForwardOutputNorm)
            total += [a.queryBias, a.keyBias, a.valueBias, a.outputBias, a.queryNorm, a.keyNorm].map(bytes).reduce(0, +)
            switch layer.feedForward {
            case let .dense(gate, up, down, gb, ub, db):
                total += gate.byteCount + up.byteCount + down.byteCount + bytes(gb) + bytes(ub) + bytes(db)
            case let .experts(router, experts, routing):
                let all = experts.map { $0.gate.byteCount + $0.up.byteCount + $0.down.byteCount }.reduce(0, +)
                total += router.byteCount + all * routing.topK / max(experts.count, 1)
            }
        }
        return total
    }

    /// KV-cache bytes a decode step reads at `context` tokens (keys and values of every layer).
    public func kvBytesPerToken(context: Int) -> Int {
        context * 2 * spec.layerCount * backend.activationDType.byteCount(elements: spec.kvWidth)
    }
}
