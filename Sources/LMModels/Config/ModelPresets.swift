import LMTensor

/// Specs of well-known models, for benchmarks on random weights with real shapes.
public enum ModelPresets {
    public static let names = ["smollm2-135m", "llama3-8b", "tiny"]

    public static func spec(named name: String) -> DecoderSpec? {
        switch name {
        case "smollm2-135m":
            // HuggingFaceTB/SmolLM2-135M-Instruct config.json
            return llama(layers: 30, hidden: 576, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152,
                         theta: 100_000, maxPositions: 8192, tied: true, eps: 1e-5)
        case "llama3-8b":
            // meta-llama/Meta-Llama-3-8B config.json
            return llama(layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128_256,
                         theta: 500_000, maxPositions: 8192, tied: false, eps: 1e-5)
        case "tiny":
            // The fixtures' tiny-llama shape.
            return llama(layers: 2, hidden: 64, heads: 4, kvHeads: 2, ffn: 128, vocab: 512,
                         theta: 10_000, maxPositions: 256, tied: false, eps: 1e-5)
        default:
            return nil
        }
    }

    static func llama(layers: Int, hidden: Int, heads: Int, kvHeads: Int, ffn: Int, vocab: Int,
                      theta: Double, maxPositions: Int, tied: Bool, eps: Float) -> DecoderSpec {
        DecoderSpec(architecture: "LlamaForCausalLM", vocabSize: vocab, hiddenSize: hidden, intermediateSize: ffn,
                    layerCount: layers, headCount: heads, kvHeadCount: kvHeads, headDim: hidden / heads,
                    rmsNormEpsilon: eps, rope: RopeSpec(theta: theta, rotaryDim: hidden / heads),
                    maxPositions: maxPositions, tiedEmbeddings: tied, qkvBias: false, outputBias: false,
                    mlpBias: false, qkNorm: false, slidingWindows: Array(repeating: nil, count: layers),
                    experts: nil, bosTokenID: nil, eosTokenIDs: [])
    }
}
