import LMTensor

/// The Llama-family decoder every supported architecture runs on: embedding, N pre-norm blocks
/// (attention with GQA, RoPE, optional q/k norm, biases and sliding window; SiLU-gated MLP or a
/// mixture of experts), final norm and LM head. Ported from transformers' `LlamaModel` /
/// `MixtralModel`; differences between architectures live in `DecoderSpec`.
///
/// Runs ragged batches over a paged KV cache; one caller at a time.
public final class DecoderModel: @unchecked Sendable {
    public let spec: DecoderSpec
    public let backend: any Backend
    let weights: DecoderWeights
    let inverseFrequencies: Tensor        // [rot/2]
    let localInverseFrequencies: Tensor?  // [rot/2] of sliding-window layers, when they differ
    private var workspace: ForwardWorkspace?
    /// The cache of the previous step: recorded steps write into it and must go with it.
    private weak var recordedCache: KVCache?
    /// Pads decode batches to a few sizes (`DecodeBatchPadding`) in caches made after this is
    /// set; on by default where the backend records steps.
    public var padsDecodeBatches: Bool

    public init(spec: DecoderSpec, source: any WeightSource, names: TensorNames, backend: any Backend) throws {
        self.spec = spec
        self.backend = backend
        weights = try DecoderWeights(spec: spec, source: source, names: names, backend: backend)
        func upload(_ rope: RopeSpec) throws -> Tensor {
            let frequencies = rope.inverseFrequencies()
            let tensor = try backend.allocate(Shape(frequencies.count), dtype: .f32)
            backend.upload(frequencies, to: tensor)
            return tensor
        }
        inverseFrequencies = try upload(spec.rope)
        localInverseFrequencies = try spec.localRope.map(upload)
        // A mixture of experts routes on the host (a wait inside the step), so such a model's
        // steps are never recorded, and need no padding.
        padsDecodeBatches = backend.recordsSteps && spec.experts == nil
    }

    deinit { backend.discardRecordedSteps(of: ObjectIdentifier(self)) }

    /// A paged cache for this model with `blockCount` blocks of `blockSize` tokens (and a
    /// padding block after them when the model pads decode batches).
    public func makeKVCache(blockCount: Int, blockSize: Int = 16) throws -> KVCache {
        try KVCache(layout: KVCacheLayout(layerCount: spec.layerCount, blockCount: blockCount, blockSize: blockSize,
                                          kvHeads: spec.kvHeadCount, headDim: spec.headDim, dtype: backend.activationDType),
                    backend: backend, paddingBlock: padsDecodeBatches)
    }

    /// Runs one step: writes the new tokens' keys and values into `cache` and returns the logits
    /// of `batch.logitRows`, [R, V] (a view valid until the next call).
    public func forward(_ requested: ForwardBatch, cache: KVCache) throws -> Tensor {
        try validate(requested)
        let batch = cache.paddingBlock.map { requested.paddedForDecode(paddingBlock: $0) } ?? requested
        let t = batch.tokens.count, r = batch.logitRows.count
        let w = try workspace(tokens: t, rows: r)
        backend.upload(batch.tokens, to: w.tokens.rows(0..<t))
        if let fed = batch.fedTokens { backend.copyTokens(fed.source, indices: fed.indices, into: w.tokens.rows(0..<t), rows: fed.rows) }
        backend.upload(batch.positions, to: w.positions.rows(0..<t))
        backend.upload(batch.logitRows, to: w.logitRows.rows(0..<r))

        // A step where every sequence decodes one token launches the same ops with the same
        // arguments whatever the contexts: the backend may record it once and replay it.
        if recordedCache !== cache {
            backend.discardRecordedSteps(of: ObjectIdentifier(self))
            recordedCache = cache
        }
        let decodeOnly = batch.attention.sequences.allSatisfy { $0.queryCount == 1 }
        let replayKey = decodeOnly && spec.experts == nil ? StepReplayKey(owner: ObjectIdentifier(self), tokens: t, logitRows: r) : nil
        backend.runStep(batch.attention, replayKey: replayKey) { layers(batch.attention, tokens: t, rows: r, cache: cache, workspace: w) }
        return w.logits.rows(0..<requested.logitRows.count)
    }

    /// Every op of a step, from the token ids in the workspace to the logits of its rows.
    private func layers(_ batch: AttentionBatch, tokens t: Int, rows r: Int, cache: KVCache, workspace w: ForwardWorkspace) {
        let hidden = w.hidden.rows(0..<t), normed = w.normed.rows(0..<t), projected = w.projected.rows(0..<t)
        backend.gatherRows(weights.embedding, indices: w.tokens.rows(0..<t), out: hidden)
        if let factor = spec.embeddingScale { backend.scale(hidden, by: factor, out: hidden) }
        let positions = w.positions.rows(0..<t)
        let angles = (cos: w.cos.rows(0..<t), sin: w.sin.rows(0..<t))
        backend.ropeAngles(positions: positions, inverseFrequencies: inverseFrequencies, cos: angles.cos, sin: angles.sin)
        var localAngles = angles
        if let localInverseFrequencies, let localCos = w.localCos, let localSin = w.localSin {
            localAngles = (localCos.rows(0..<t), localSin.rows(0..<t))
            backend.ropeAngles(positions: positions, inverseFrequencies: localInverseFrequencies, cos: localAngles.cos, sin: localAngles.sin)
        }

        if backend.fusesResidualNorms(tokens: t), weights.layers.allSatisfy(\.keepsResidualPlain) {
            for (index, layer) in weights.layers.enumerated() {
                residualFusedLayer(layer, index: index, hidden: hidden, normed: normed, projected: projected,
                                   angles: spec.slidingWindows[index] != nil ? localAngles : angles, batch: batch, cache: cache.layers[index], workspace: w)
            }
        } else {
            unfusedLayers(hidden: hidden, normed: normed, projected: projected, angles: angles, localAngles: localAngles, batch: batch, cache: cache, workspace: w)
        }

        let finalRows = w.finalRows.rows(0..<r), logits = w.logits.rows(0..<r)
        backend.gatherRows(hidden, indices: w.logitRows.rows(0..<r), out: finalRows)
        backend.rmsNorm(finalRows, weight: weights.finalNorm, epsilon: spec.rmsNormEpsilon, out: finalRows)
        backend.linear(finalRows, weight: weights.lmHead, bias: nil, out: logits)
    }

    /// Every layer, each residual add fused with the norm that reads its sum (the next block's
    /// input norm, or this block's feed-forward norm); only the last layer's final add stands alone.
    private func unfusedLayers(hidden: Tensor, normed: Tensor, projected: Tensor, angles: (cos: Tensor, sin: Tensor),
                               localAngles: (cos: Tensor, sin: Tensor), batch: AttentionBatch, cache: KVCache, workspace w: ForwardWorkspace) {
        backend.rmsNorm(hidden, weight: weights.layers[0].inputNorm, epsilon: spec.rmsNormEpsilon, out: normed)
        for (index, layer) in weights.layers.enumerated() {
            let layerAngles = spec.slidingWindows[index] != nil ? localAngles : angles
            attention(layer.attention, input: normed, out: projected, layer: index, cos: layerAngles.cos, sin: layerAngles.sin,
                      batch: batch, cache: cache.layers[index], workspace: w)
            if let norm = layer.attentionOutputNorm { backend.rmsNorm(projected, weight: norm, epsilon: spec.rmsNormEpsilon, out: projected) }
            backend.addRMSNorm(hidden, projected, weight: layer.feedForwardNorm, epsilon: spec.rmsNormEpsilon, out: normed)
            feedForward(layer.feedForward, input: normed, out: projected, workspace: w)
            if let norm = layer.feedForwardOutputNorm { backend.rmsNorm(projected, weight: norm, epsilon: spec.rmsNormEpsilon, out: projected) }
            if index + 1 < weights.layers.count {
                backend.addRMSNorm(hidden, projected, weight: weights.layers[index + 1].inputNorm, epsilon: spec.rmsNormEpsilon, out: normed)
            } else {
                backend.add(hidden, projected, out: hidden)
            }
        }
    }

    /// One layer with its residual adds inside the output linears and its norms inside the ops
    /// that read them (`Backend.fusesResidualNorms`); `hidden` is the residual stream before and after.
    private func residualFusedLayer(_ layer: LayerWeights, index: Int, hidden: Tensor, normed: Tensor, projected: Tensor,
                                    angles: (cos: Tensor, sin: Tensor), batch: AttentionBatch, cache: LayerKVCache, workspace w: ForwardWorkspace) {
        guard case let .dense(gate, up, down, gateBias, upBias, downBias) = layer.feedForward else {
            preconditionFailure("the fused residual-norm schedule runs dense MLPs only")
        }
        let t = hidden.shape[0], d = spec.headDim, a = layer.attention, epsilon = spec.rmsNormEpsilon
        let q3 = w.query.rows(0..<t).reshaped(t, spec.headCount, d)
        let k3 = w.key.rows(0..<t).reshaped(t, spec.kvHeadCount, d), v3 = w.value.rows(0..<t).reshaped(t, spec.kvHeadCount, d)
        let rope = spec.rope(ofLayer: index), attended = w.attended.rows(0..<t)
        backend.normedProjectRopeWriteKV(ResidualNorm(residual: hidden, weight: layer.inputNorm, epsilon: epsilon, normed: normed),
                                         projections: a.queryKeyValue, query: q3, key: k3, value: v3, cos: angles.cos, sin: angles.sin,
                                         rotaryDim: rope.rotaryDim, style: rope.style, cache: cache, batch: batch)
        backend.attention(query: q3, cache: cache, batch: batch, scale: spec.attentionScale, slidingWindow: spec.slidingWindows[index],
                          out: attended.reshaped(t, spec.headCount, d))
        backend.addLinear(attended, weight: a.output, bias: a.outputBias, residual: hidden, scratch: projected)
        let g = w.gate.rows(0..<t), u = w.up.rows(0..<t)
        backend.normedGatedLinear(ResidualNorm(residual: hidden, weight: layer.feedForwardNorm, epsilon: epsilon, normed: normed),
                                  gate: Projection(weight: gate, bias: gateBias), up: Projection(weight: up, bias: upBias),
                                  activation: spec.activation, out: g, scratch: u)
        backend.addLinear(g, weight: down, bias: downBias, residual: hidden, scratch: projected)
    }

    /// Self-attention of one layer   input [T, C] -> out [T, C].
    private func attention(_ a: AttentionWeights, input: Tensor, out: Tensor, layer: Int, cos: Tensor, sin: Tensor,
                           batch: AttentionBatch, cache: LayerKVCache, workspace w: ForwardWorkspace) {
        let t = input.shape[0], d = spec.headDim
        let q = w.query.rows(0..<t), k = w.key.rows(0..<t), v = w.value.rows(0..<t)
        let q3 = q.reshaped(t, spec.headCount, d), k3 = k.reshaped(t, spec.kvHeadCount, d), v3 = v.reshaped(t, spec.kvHeadCount, d)
        let rope = spec.rope(ofLayer: layer)
        let attended = w.attended.rows(0..<t)
        if let queryNorm = a.queryNorm, let keyNorm = a.keyNorm {
            // Per-head norms come between the projections and the rotation.
            backend.linear(input, projections: a.queryKeyValue, outs: [q, k, v])
            let qRows = q.reshaped(t * spec.headCount, d), kRows = k.reshaped(t * spec.kvHeadCount, d)
            backend.rmsNorm(qRows, weight: queryNorm, epsilon: spec.rmsNormEpsilon, out: qRows)
            backend.rmsNorm(kRows, weight: keyNorm, epsilon: spec.rmsNormEpsilon, out: kRows)
            backend.ropeWriteKV(query: q3, key: k3, value: v3, cos: cos, sin: sin, rotaryDim: rope.rotaryDim, style: rope.style,
                                cache: cache, batch: batch)
        } else {
            backend.projectRopeWriteKV(input, projections: a.queryKeyValue, query: q3, key: k3, value: v3, cos: cos, sin: sin,
                                       rotaryDim: rope.rotaryDim, style: rope.style, cache: cache, batch: batch)
        }
        backend.attention(query: q3, cache: cache, batch: batch, scale: spec.attentionScale,
                          slidingWindow: spec.slidingWindows[layer], out: attended.reshaped(t, spec.headCount, d))
        backend.linear(attended, weight: a.output, bias: a.outputBias, out: out)
    }

    /// The MLP or mixture of experts of one layer   input [T, C] -> out [T, C].
    private func feedForward(_ f: FeedForwardWeights, input: Tensor, out: Tensor, workspace w: ForwardWorkspace) {
        let t = input.shape[0]
        switch f {
        case let .dense(gate, up, down, gateBias, upBias, downBias):
            let g = w.gate.rows(0..<t), u = w.up.rows(0..<t)
            backend.gatedLinear(input, gate: Projection(weight: gate, bias: gateBias), up: Projection(weight: up, bias: upBias),
                                activation: spec.activation, out: g, scratch: u)
            backend.linear(g, weight: down, bias: downBias, out: out)
        case let .experts(router, experts, routing):
            let logits = w.routerLogits!.rows(0..<t)
            backend.linear(input, weight: router, bias: nil, out: logits)
            backend.mixtureOfExperts(input, routerLogits: logits, experts: experts, routing: routing, out: out)
        }
    }

    private func workspace(tokens: Int, rows: Int) throws -> ForwardWorkspace {
        if let workspace, workspace.tokenCapacity >= tokens, workspace.rowCapacity >= rows { return workspace }
        let capacity = max(tokens, workspace?.tokenCapacity ?? 0)
        let rowCapacity = max(rows, workspace?.rowCapacity ?? 0)
        backend.discardRecordedSteps(of: ObjectIdentifier(self))   // recorded steps use the old buffers
        if workspace != nil { backend.waitForQueuedWork() }   // a step launched before may still use them
        workspace = nil  // release the old buffers first
        let fresh = try ForwardWorkspace(spec: spec, tokenCapacity: capacity, rowCapacity: rowCapacity, backend: backend)
        workspace = fresh
        return fresh
    }

    private func validate(_ batch: ForwardBatch) throws(ForwardError) {
        let t = batch.tokens.count
        guard t > 0 else { throw .emptyBatch }
        guard batch.positions.count == t, batch.attention.slotMapping.count == t else {
            throw .inconsistentBatch("\(t) tokens, \(batch.positions.count) positions, \(batch.attention.slotMapping.count) slots")
        }
        for token in batch.tokens where token < 0 || Int(token) >= spec.vocabSize {
            throw .tokenOutOfRange(token: token, vocabSize: spec.vocabSize)
        }
        for row in batch.logitRows where row < 0 || Int(row) >= t {
            throw .inconsistentBatch("logit row \(row) outside 0..<\(t)")
        }
        if let fed = batch.fedTokens {
            guard fed.source.dtype == .i32, fed.indices.count == fed.rows.count,
                  fed.indices.allSatisfy({ $0 >= 0 && Int($0) < fed.source.elementCount }), fed.rows.allSatisfy({ $0 >= 0 && Int($0) < t }) else {
                throw .inconsistentBatch("fed tokens: \(fed.indices.count) indices into \(fed.source.shape) \(fed.source.dtype), \(fed.rows.count) rows of \(t)")
            }
        }
        var covered = 0
        for sequence in batch.attention.sequences {
            guard sequence.queryStart == covered, sequence.queryCount > 0, sequence.contextLength >= sequence.queryCount,
                  sequence.blockTable.count * batch.attention.blockSize >= sequence.contextLength else {
                throw .inconsistentBatch("sequence \(sequence.queryStart)+\(sequence.queryCount) of context \(sequence.contextLength)")
            }
            covered += sequence.queryCount
        }
        guard covered == t else { throw .inconsistentBatch("sequences cover \(covered) of \(t) tokens") }
    }
}
