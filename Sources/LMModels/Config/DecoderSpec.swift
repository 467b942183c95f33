import LMTensor

/// Everything the shared decoder needs to know about a Llama-family model, normalised from an
/// architecture's config. Shapes follow from it, so weights are checked against it on load.
public struct DecoderSpec: Sendable, Equatable {
    public var architecture: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var rmsNormEpsilon: Float
    public var rope: RopeSpec
    public var maxPositions: Int
    public var tiedEmbeddings: Bool
    /// Biases on the q, k and v projections (Qwen2; Llama and Qwen3 `attention_bias`).
    public var qkvBias: Bool
    /// Bias on the output projection (Llama and Qwen3 `attention_bias`).
    public var outputBias: Bool
    /// Biases on the MLP projections (Llama `mlp_bias`).
    public var mlpBias: Bool
    /// Per-head RMSNorm of queries and keys before RoPE (Qwen3).
    public var qkNorm: Bool
    /// Sliding attention window of each layer, nil where the layer attends to everything.
    public var slidingWindows: [Int?]
    public var experts: ExpertSpec?
    public var bosTokenID: Int32?
    public var eosTokenIDs: [Int32]
    /// Nonlinearity of the gated MLP.
    public var activation: Activation = .silu
    /// Factor applied to token embeddings (Gemma: sqrt(hidden_size)).
    public var embeddingScale: Float?
    /// RMSNorms also on the attention output and the MLP output, before the residual adds
    /// (Gemma 2 and 3).
    public var sandwichNorms = false
    /// RoPE of the sliding-window layers where it differs from `rope` (Gemma 3's local base).
    public var localRope: RopeSpec?
    /// Attention score scale when it is not head_dim^-0.5 (Gemma's query_pre_attn_scalar^-0.5).
    public var queryScale: Float?
    /// Added to RMSNorm weights on load (Hugging Face Gemma stores w - 1 and computes x·(1 + w)).
    public var normWeightOffset: Float = 0

    /// Softmax scale of attention scores (head_dim^-0.5 unless overridden, rounded to f32 as
    /// transformers does).
    public var attentionScale: Float { queryScale ?? Float(1 / Double(headDim).squareRoot()) }

    /// The RoPE of layer `layer`.
    public func rope(ofLayer layer: Int) -> RopeSpec {
        slidingWindows[layer] != nil ? localRope ?? rope : rope
    }
    public var queryWidth: Int { headCount * headDim }
    public var kvWidth: Int { kvHeadCount * headDim }

    /// Parameters the weights hold (for sizes and bandwidth figures).
    public var parameterCount: Int {
        let attention = hiddenSize * (queryWidth + 2 * kvWidth) + queryWidth * hiddenSize
        let mlp = experts.map { $0.count * 3 * hiddenSize * $0.intermediateSize + $0.count * hiddenSize }
            ?? 3 * hiddenSize * intermediateSize
        let norms = (sandwichNorms ? 4 : 2) * hiddenSize + (qkNorm ? 2 * headDim : 0)
        let embeddings = vocabSize * hiddenSize * (tiedEmbeddings ? 1 : 2)
        return layerCount * (attention + mlp + norms) + embeddings + hiddenSize
    }
}

/// Mixture-of-experts feed-forward: `count` SiLU-gated experts of width `intermediateSize`.
public struct ExpertSpec: Sendable, Equatable {
    public var count: Int
    public var topK: Int
    public var intermediateSize: Int
    public var renormalize: Bool

    public init(count: Int, topK: Int, intermediateSize: Int, renormalize: Bool) {
        self.count = count
        self.topK = topK
        self.intermediateSize = intermediateSize
        self.renormalize = renormalize
    }
}
