/// The config.json keys every Llama-family architecture shares, with transformers' names.
/// Architecture configs decode this from the same JSON and add their own keys.
struct TransformerConfig: Decodable {
    var hiddenSize: Int
    var intermediateSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int?
    var headDim: Int?
    var vocabSize: Int
    var rmsNormEps: Float?
    var maxPositionEmbeddings: Int?
    var ropeTheta: Double?
    var ropeScaling: RopeScalingConfig?
    var ropeParameters: RopeScalingConfig?
    var partialRotaryFactor: Double?
    var tieWordEmbeddings: Bool?
    var hiddenAct: String?
    var slidingWindow: Int?
    var layerTypes: [String]?
    var bosTokenID: TokenIDList?
    var eosTokenID: TokenIDList?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case vocabSize = "vocab_size"
        case rmsNormEps = "rms_norm_eps"
        case maxPositionEmbeddings = "max_position_embeddings"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters"
        case partialRotaryFactor = "partial_rotary_factor"
        case tieWordEmbeddings = "tie_word_embeddings"
        case hiddenAct = "hidden_act"
        case slidingWindow = "sliding_window"
        case layerTypes = "layer_types"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
    }

    /// Architecture-specific defaults for keys a config may omit (transformers' defaults).
    struct Defaults {
        var rmsNormEps: Float = 1e-6
        var ropeTheta: Double = 10_000
        var maxPositions: Int = 2048
    }

    /// The shared part of a `DecoderSpec`; `windowOfLayer` says which layers slide (nil: none).
    func spec(architecture: String, file: String, defaults: Defaults,
              slidingLayer: (Int) -> Bool) throws(ModelLoadError) -> DecoderSpec {
        func positive(_ value: Int, _ key: String) throws(ModelLoadError) -> Int {
            guard value > 0 else { throw .invalidConfig(file: file, key: key, reason: "must be positive, got \(value)") }
            return value
        }
        let hidden = try positive(hiddenSize, "hidden_size")
        let heads = try positive(numAttentionHeads, "num_attention_heads")
        let kvHeads = try positive(numKeyValueHeads ?? heads, "num_key_value_heads")
        guard heads % kvHeads == 0 else {
            throw .invalidConfig(file: file, key: "num_key_value_heads", reason: "(\(kvHeads)) must divide num_attention_heads (\(heads))")
        }
        let headDim = try positive(headDim ?? hidden / heads, "head_dim")
        if headDim * heads != hidden && self.headDim == nil {
            throw .invalidConfig(file: file, key: "hidden_size", reason: "(\(hidden)) is not a multiple of num_attention_heads (\(heads)); set head_dim")
        }
        let layers = try positive(numHiddenLayers, "num_hidden_layers")
        if let act = hiddenAct, act != "silu", act != "swish" {
            throw .invalidConfig(file: file, key: "hidden_act", reason: "\"\(act)\" is not supported (supported: silu)")
        }
        let rotaryDim = partialRotaryFactor.map { Int(Double(headDim) * $0) } ?? headDim
        guard rotaryDim > 0, rotaryDim <= headDim, rotaryDim % 2 == 0 else {
            throw .invalidConfig(file: file, key: "partial_rotary_factor", reason: "gives \(rotaryDim) rotary dims of \(headDim)")
        }
        let scalingKey = ropeScaling != nil ? "rope_scaling" : "rope_parameters"
        let scaling = try (ropeScaling ?? ropeParameters)?.scaling(file: file, key: scalingKey) ?? .none
        let theta = ropeTheta ?? ropeParameters?.ropeTheta ?? defaults.ropeTheta

        var windows: [Int?] = []
        for layer in 0..<layers {
            let slides: Bool
            if let layerTypes {
                guard layerTypes.count == layers else {
                    throw .invalidConfig(file: file, key: "layer_types", reason: "lists \(layerTypes.count) layers, the model has \(layers)")
                }
                slides = layerTypes[layer] == "sliding_attention"
            } else {
                slides = slidingLayer(layer)
            }
            if slides {
                guard let window = slidingWindow, window > 0 else {
                    throw .invalidConfig(file: file, key: "sliding_window", reason: "must be a positive number for sliding layers")
                }
                windows.append(window)
            } else {
                windows.append(nil)
            }
        }

        return DecoderSpec(
            architecture: architecture,
            vocabSize: try positive(vocabSize, "vocab_size"),
            hiddenSize: hidden,
            intermediateSize: try positive(intermediateSize, "intermediate_size"),
            layerCount: layers,
            headCount: heads,
            kvHeadCount: kvHeads,
            headDim: headDim,
            rmsNormEpsilon: rmsNormEps ?? defaults.rmsNormEps,
            rope: RopeSpec(theta: theta, scaling: scaling, rotaryDim: rotaryDim),
            maxPositions: maxPositionEmbeddings ?? defaults.maxPositions,
            tiedEmbeddings: tieWordEmbeddings ?? false,
            qkvBias: false, outputBias: false, mlpBias: false, qkNorm: false,
            slidingWindows: windows,
            experts: nil,
            bosTokenID: bosTokenID?.ids.first,
            eosTokenIDs: eosTokenID?.ids ?? [])
    }
}
