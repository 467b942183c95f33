import LMTensor

/// The weights of one attention block.
struct AttentionWeights {
    var query: Tensor, key: Tensor, value: Tensor, output: Tensor   // [Hq·D, C], [Hkv·D, C] ×2, [C, Hq·D]
    var queryBias: Tensor?, keyBias: Tensor?, valueBias: Tensor?, outputBias: Tensor?
    var queryNorm: Tensor?, keyNorm: Tensor?                          // [D]

    /// q, k and v as one grouped projection (one dispatch).
    var queryKeyValue: [Projection] {
        [Projection(weight: query, bias: queryBias), Projection(weight: key, bias: keyBias), Projection(weight: value, bias: valueBias)]
    }
}

/// The feed-forward of one layer: a SiLU-gated MLP or a sparse mixture of them.
enum FeedForwardWeights {
    case dense(gate: Tensor, up: Tensor, down: Tensor, gateBias: Tensor?, upBias: Tensor?, downBias: Tensor?)
    case experts(router: Tensor, experts: [ExpertWeights], routing: ExpertRouting)   // router [E, C]
}

struct LayerWeights {
    var inputNorm: Tensor                // [C]
    var attention: AttentionWeights
    var attentionOutputNorm: Tensor?     // [C] (sandwich norms)
    var feedForwardNorm: Tensor          // [C]
    var feedForward: FeedForwardWeights
    var feedForwardOutputNorm: Tensor?   // [C] (sandwich norms)

    /// Whether the residual stream gets each sublayer's output as it is, its norms only on the
    /// way into the sublayers (no sandwich or per-head norms) over a dense MLP: what the fused
    /// residual-norm schedule runs.
    var keepsResidualPlain: Bool {
        guard case .dense = feedForward else { return false }
        return attentionOutputNorm == nil && feedForwardOutputNorm == nil && attention.queryNorm == nil && attention.keyNorm == nil
    }
}

/// All weights of a decoder, loaded through a backend and checked against the spec's shapes.
struct DecoderWeights {
    var embedding: Tensor   // [V, C]
    var layers: [LayerWeights]
    var finalNorm: Tensor   // [C]
    var lmHead: Tensor      // [V, C] (the embedding when tied)

    init(spec: DecoderSpec, source: any WeightSource, names: TensorNames, backend: any Backend) throws {
        let loader = WeightLoader(source: source, backend: backend, normOffset: spec.normWeightOffset)
        let c = spec.hiddenSize, d = spec.headDim
        embedding = try loader.load(names.embedding, [spec.vocabSize, c])
        finalNorm = try loader.loadNorm(names.finalNorm, [c])
        // As in transformers, tied embeddings win over an lm_head the file may also carry.
        lmHead = spec.tiedEmbeddings ? embedding : try loader.load(names.lmHead, [spec.vocabSize, c])
        layers = try (0..<spec.layerCount).map { layer in
            func name(_ template: String, _ suffix: String = "") -> String { names.resolve(template, layer: layer) + suffix }
            func weight(_ template: String, _ shape: [Int]) throws -> Tensor { try loader.load(name(template, ".weight"), shape) }
            func bias(_ template: String, _ rows: Int, _ present: Bool) throws -> Tensor? {
                present ? try loader.load(name(template, ".bias"), [rows]) : nil
            }
            // Projections of one input are loaded together, so a backend can pack them into one matrix.
            let qkv = try backend.packRows([weight(names.query, [spec.queryWidth, c]), weight(names.key, [spec.kvWidth, c]),
                                             weight(names.value, [spec.kvWidth, c])])
            let (q, k, v) = (qkv[0], qkv[1], qkv[2])
            let (qb, kb, vb) = (try bias(names.query, spec.queryWidth, spec.qkvBias), try bias(names.key, spec.kvWidth, spec.qkvBias),
                                try bias(names.value, spec.kvWidth, spec.qkvBias))
            let (o, ob) = (try weight(names.output, [c, spec.queryWidth]), try bias(names.output, c, spec.outputBias))
            let attention = AttentionWeights(
                query: q, key: k, value: v, output: o, queryBias: qb, keyBias: kb, valueBias: vb, outputBias: ob,
                queryNorm: spec.qkNorm ? try loader.loadNorm(name(names.queryNorm), [d]) : nil,
                keyNorm: spec.qkNorm ? try loader.loadNorm(name(names.keyNorm), [d]) : nil)

            let feedForward: FeedForwardWeights
            if let moe = spec.experts {
                let f = moe.intermediateSize
                let experts = try (0..<moe.count).map { e in
                    ExpertWeights(gate: try loader.load(names.resolve(names.expertGate, layer: layer, expert: e), [f, c]),
                                  up: try loader.load(names.resolve(names.expertUp, layer: layer, expert: e), [f, c]),
                                  down: try loader.load(names.resolve(names.expertDown, layer: layer, expert: e), [c, f]))
                }
                feedForward = .experts(router: try loader.load(name(names.router), [moe.count, c]), experts: experts,
                                       routing: ExpertRouting(topK: moe.topK, renormalize: moe.renormalize))
            } else {
                let f = spec.intermediateSize
                let gateUp = try backend.packRows([weight(names.gate, [f, c]), weight(names.up, [f, c])])
                let (gate, up) = (gateUp[0], gateUp[1])
                let (gb, ub) = (try bias(names.gate, f, spec.mlpBias), try bias(names.up, f, spec.mlpBias))
                let (down, db) = (try weight(names.down, [c, f]), try bias(names.down, c, spec.mlpBias))
                feedForward = .dense(gate: gate, up: up, down: down, gateBias: gb, upBias: ub, downBias: db)
            }
            return LayerWeights(
                inputNorm: try loader.loadNorm(name(names.inputNorm), [c]), attention: attention,
                attentionOutputNorm: spec.sandwichNorms ? try loader.loadNorm(name(names.attentionOutputNorm), [c]) : nil,
                feedForwardNorm: try loader.loadNorm(name(names.feedForwardNorm), [c]), feedForward: feedForward,
                feedForwardOutputNorm: spec.sandwichNorms ? try loader.loadNorm(name(names.feedForwardOutputNorm), [c]) : nil)
        }
    }
}

/// Fetches named tensors, checks their shapes, and hands them to the backend.
struct WeightLoader {
    let source: any WeightSource
    let backend: any Backend
    /// Added to every RMSNorm weight (see `DecoderSpec.normWeightOffset`).
    var normOffset: Float = 0

    /// An RMSNorm weight, with the spec's offset applied (as f32).
    func loadNorm(_ name: String, _ shape: [Int]) throws -> Tensor {
        guard normOffset != 0 else { return try load(name, shape) }
        let host = try checked(name, shape)
        let values = try host.floatValues(file: source.file(of: name)).map { $0 + normOffset }
        let storage = HostAllocation(byteCount: values.count * 4)
        values.withUnsafeBytes { storage.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return try backend.loadWeight(HostTensor(name: name, dtype: .f32, shape: host.shape, bytes: storage.bytes, owner: storage))
    }

    func load(_ name: String, _ shape: [Int]) throws -> Tensor {
        try backend.loadWeight(try checked(name, shape))
    }

    private func checked(_ name: String, _ shape: [Int]) throws -> HostTensor {
        let host = try source.tensor(name)
        guard host.shape.dims == shape else {
            throw ModelLoadError.shapeMismatch(file: source.file(of: name), tensor: name, expected: shape, actual: host.shape.dims)
        }
        return host
    }
}
