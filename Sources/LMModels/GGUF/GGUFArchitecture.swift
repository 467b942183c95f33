import LMTensor

/// Maps GGUF metadata (`{arch}.block_count`, `{arch}.attention.head_count`, ...) and llama.cpp's
/// tensor names (`token_embd`, `blk.N.attn_q`, `output_norm`) onto the shared decoder.
/// Conventions followed (llama.cpp `llama-arch.cpp`, `convert_hf_to_gguf.py`):
/// - `llama` files have Q and K rows permuted so RoPE rotates adjacent pairs; the decoder uses
///   interleaved RoPE for them instead of undoing the permutation (q·k is unchanged).
///   `qwen2` and `qwen3` keep the NeoX pairing.
/// - No `output.weight` means the LM head is tied to `token_embd`.
/// - `rope_freqs.weight` (Llama 3.1) divides each RoPE frequency.
/// - `gemma3`: norms already hold 1 + w (the converter adds 1), embeddings are scaled by
///   sqrt(hidden) in the graph, every sixth layer attends globally unless
///   `attention.sliding_window_pattern` says otherwise, sliding layers use `rope.freq_base_swa`
///   (10000 when absent), and scores are scaled by `attention.scale` or, as llama.cpp does,
///   head_dim^-0.5 (hidden/heads for the 62-layer 27B).
public enum GGUFArchitecture {
    public static let supportedNames = ["llama", "qwen2", "qwen3", "gemma3"]

    public static let tensorNames = TensorNames(
        embedding: "token_embd.weight",
        finalNorm: "output_norm.weight",
        lmHead: "output.weight",
        inputNorm: "blk.{L}.attn_norm.weight",
        feedForwardNorm: "blk.{L}.ffn_norm.weight",
        query: "blk.{L}.attn_q",
        key: "blk.{L}.attn_k",
        value: "blk.{L}.attn_v",
        output: "blk.{L}.attn_output",
        queryNorm: "blk.{L}.attn_q_norm.weight",
        keyNorm: "blk.{L}.attn_k_norm.weight",
        attentionOutputNorm: "blk.{L}.post_attention_norm.weight",
        feedForwardOutputNorm: "blk.{L}.post_ffw_norm.weight",
        gate: "blk.{L}.ffn_gate",
        up: "blk.{L}.ffn_up",
        down: "blk.{L}.ffn_down",
        router: "blk.{L}.ffn_gate_inp.weight",
        expertGate: "blk.{L}.ffn_gate.{E}.weight",
        expertUp: "blk.{L}.ffn_up.{E}.weight",
        expertDown: "blk.{L}.ffn_down.{E}.weight")

    /// The decoder spec the file's metadata describes.
    public static func spec(_ file: GGUFFile) throws(ModelLoadError) -> DecoderSpec {
        let metadata = Metadata(file: file)
        let arch = try metadata.string("general.architecture")
        guard supportedNames.contains(arch) else { throw .unsupportedArchitecture(file: file.path, name: arch) }
        let p = arch + "."
        let hidden = try metadata.int(p + "embedding_length")
        let heads = try metadata.int(p + "attention.head_count")
        let kvHeads = try metadata.int(p + "attention.head_count_kv", default: heads)
        guard hidden > 0, heads > 0, kvHeads > 0, heads % kvHeads == 0 else {
            throw .ggufInvalidMetadata(file: file.path, key: p + "attention.head_count_kv",
                                       reason: "\(kvHeads) key/value heads for \(heads) heads of a \(hidden)-wide model")
        }
        let headDim = try metadata.int(p + "attention.key_length", default: hidden / heads)
        let layers = try metadata.int(p + "block_count")
        let embedding = file.tensors[tensorNames.embedding]
        let vocab = try metadata.int(p + "vocab_size", default: embedding?.shape.first ?? metadata.arrayCount("tokenizer.ggml.tokens"))
        let rotaryDim = try metadata.int(p + "rope.dimension_count", default: headDim)
        guard headDim > 0, layers > 0, vocab > 0, rotaryDim > 0, rotaryDim <= headDim, rotaryDim % 2 == 0 else {
            throw .ggufInvalidMetadata(file: file.path, key: p + "block_count", reason: "implausible sizes: \(layers) layers, head dim \(headDim), vocabulary \(vocab)")
        }

        var scaling = RopeSpec.Scaling.none
        switch metadata.file.metadata[p + "rope.scaling.type"]?.stringValue ?? "none" {
        case "none": break
        case "linear": scaling = .linear(factor: Float(try metadata.double(p + "rope.scaling.factor")))
        case let other:
            throw .ggufInvalidMetadata(file: file.path, key: p + "rope.scaling.type", reason: "\"\(other)\" is not supported (supported: none, linear)")
        }
        if file.tensors["rope_freqs.weight"] != nil {
            let factors = try file.tensor("rope_freqs.weight")
            guard factors.dtype == .f32, factors.shape.elementCount == rotaryDim / 2 else {
                throw .ggufInvalidTensor(file: file.path, tensor: "rope_freqs.weight", reason: "expected \(rotaryDim / 2) f32 values")
            }
            scaling = .frequencyFactors(Array(factors.bytes.bindMemory(to: Float.self)))
        }

        var experts: ExpertSpec?
        if let count = metadata.file.metadata[p + "expert_count"]?.intValue, count > 0 {
            let used = try metadata.int(p + "expert_used_count")
            guard used > 0, used <= count else {
                throw .ggufInvalidMetadata(file: file.path, key: p + "expert_used_count", reason: "\(used) of \(count) experts")
            }
            experts = ExpertSpec(count: count, topK: used, intermediateSize: try metadata.int(p + "expert_feed_forward_length", default: metadata.int(p + "feed_forward_length")),
                                 renormalize: true)
        }

        var eos: [Int32] = []
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = metadata.file.metadata[key]?.intValue, !eos.contains(Int32(id)) { eos.append(Int32(id)) }
        }
        let first = { (template: String) in tensorNames.resolve(template, layer: 0) }
        var spec = DecoderSpec(
            architecture: arch,
            vocabSize: vocab,
            hiddenSize: hidden,
            intermediateSize: try metadata.int(p + "feed_forward_length"),
            layerCount: layers,
            headCount: heads,
            kvHeadCount: kvHeads,
            headDim: headDim,
            rmsNormEpsilon: Float(try metadata.double(p + "attention.layer_norm_rms_epsilon", default: 1e-5)),
            rope: RopeSpec(theta: try metadata.double(p + "rope.freq_base", default: 10_000), scaling: scaling,
                           rotaryDim: rotaryDim, style: arch == "llama" ? .interleaved : .neox),
            maxPositions: try metadata.int(p + "context_length", default: 2048),
            tiedEmbeddings: file.tensors[tensorNames.lmHead] == nil,
            qkvBias: file.tensors[first(tensorNames.query) + ".bias"] != nil,
            outputBias: file.tensors[first(tensorNames.output) + ".bias"] != nil,
            mlpBias: file.tensors[first(tensorNames.gate) + ".bias"] != nil,
            qkNorm: file.tensors[first(tensorNames.queryNorm)] != nil,
            slidingWindows: Array(repeating: nil, count: layers),
            experts: experts,
            bosTokenID: metadata.file.metadata["tokenizer.ggml.bos_token_id"]?.intValue.map(Int32.init),
            eosTokenIDs: eos)
        if arch == "gemma3" { try applyGemma3(&spec, metadata: metadata) }
        return spec
    }

    /// Gemma 3's differences from the Llama graph, as llama.cpp builds it (`llm_build_gemma3`).
    private static func applyGemma3(_ spec: inout DecoderSpec, metadata: Metadata) throws(ModelLoadError) {
        let p = "gemma3."
        spec.activation = .geluTanh
        spec.embeddingScale = Float(Double(spec.hiddenSize).squareRoot())
        spec.sandwichNorms = true
        spec.rope.style = .neox
        let window = try metadata.int(p + "attention.sliding_window")
        let sliding: [Bool]
        switch metadata.file.metadata[p + "attention.sliding_window_pattern"] {
        case let .array(values)?:
            guard values.count == spec.layerCount, values.allSatisfy({ $0.boolValue != nil }) else {
                throw .ggufInvalidMetadata(file: metadata.file.path, key: p + "attention.sliding_window_pattern",
                                           reason: "expected \(spec.layerCount) booleans")
            }
            sliding = values.map { $0.boolValue! }
        case let value?:
            guard let period = value.intValue, period > 0 else {
                throw .ggufInvalidMetadata(file: metadata.file.path, key: p + "attention.sliding_window_pattern", reason: "expected a positive period, got \(value)")
            }
            sliding = (0..<spec.layerCount).map { $0 % period < period - 1 }
        case nil:
            sliding = (0..<spec.layerCount).map { $0 % 6 < 5 }
        }
        spec.slidingWindows = sliding.map { $0 ? window : nil }
        spec.localRope = RopeSpec(theta: try metadata.double(p + "rope.freq_base_swa", default: 10_000), rotaryDim: spec.rope.rotaryDim)
        let defaultScale = spec.layerCount == 62 ? 1 / Double(spec.hiddenSize / spec.headCount).squareRoot() : 1 / Double(spec.headDim).squareRoot()
        spec.queryScale = Float(try metadata.double(p + "attention.scale", default: defaultScale))
    }

    /// Typed metadata lookups whose errors name the key.
    struct Metadata {
        let file: GGUFFile

        func value(_ key: String) throws(ModelLoadError) -> GGUFValue {
            guard let value = file.metadata[key] else { throw .missingMetadata(file: file.path, key: key) }
            return value
        }

        func int(_ key: String, default fallback: Int? = nil) throws(ModelLoadError) -> Int {
            guard let value = file.metadata[key] else {
                guard let fallback else { throw .missingMetadata(file: file.path, key: key) }
                return fallback
            }
            guard let number = value.intValue else { throw .ggufInvalidMetadata(file: file.path, key: key, reason: "expected an integer, got \(value)") }
            return number
        }

        func double(_ key: String, default fallback: Double? = nil) throws(ModelLoadError) -> Double {
            guard let value = file.metadata[key] else {
                guard let fallback else { throw .missingMetadata(file: file.path, key: key) }
                return fallback
            }
            guard let number = value.doubleValue else { throw .ggufInvalidMetadata(file: file.path, key: key, reason: "expected a number, got \(value)") }
            return number
        }

        func string(_ key: String) throws(ModelLoadError) -> String {
            let value = try value(key)
            guard let text = value.stringValue else { throw .ggufInvalidMetadata(file: file.path, key: key, reason: "expected a string, got \(value)") }
            return text
        }

        func arrayCount(_ key: String) -> Int { file.metadata[key]?.arrayValue?.count ?? 0 }
    }
}
