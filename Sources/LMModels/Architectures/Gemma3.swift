#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMTensor

/// Gemma 3 (text): embeddings scaled by sqrt(hidden), RMSNorm computing x·(1 + w), norms on the
/// attention and MLP outputs as well as their inputs, q/k norms, GELU-tanh gated MLP, sliding
/// windows on five layers of six with their own RoPE base, scores scaled by
/// query_pre_attn_scalar^-0.5.
/// Reference: transformers `models/gemma3/modeling_gemma3.py` (`Gemma3ForCausalLM`) and
/// `configuration_gemma3.py` (`Gemma3TextConfig`).
public enum Gemma3: DecoderArchitecture {
    public static let names = ["Gemma3ForCausalLM"]
    public static let modelTypes = ["gemma3_text"]

    public static var tensorNames: TensorNames {
        var names = TensorNames.huggingFace
        names.feedForwardNorm = "model.layers.{L}.pre_feedforward_layernorm.weight"
        names.attentionOutputNorm = "model.layers.{L}.post_attention_layernorm.weight"
        names.feedForwardOutputNorm = "model.layers.{L}.post_feedforward_layernorm.weight"
        return names
    }

    struct Config: Decodable {
        var shared: TransformerConfig
        var hiddenActivation: String?
        var queryPreAttnScalar: Double?
        var slidingWindowPattern: Int?
        var legacySlidingWindowPattern: Int?
        var ropeLocalBaseFreq: Double?
        var ropeByLayerType: [String: RopeScalingConfig]?
        var attnLogitSoftcapping: Double?
        var finalLogitSoftcapping: Double?
        var useBidirectionalAttention: Bool?

        enum CodingKeys: String, CodingKey {
            case hiddenActivation = "hidden_activation"
            case queryPreAttnScalar = "query_pre_attn_scalar"
            case slidingWindowPattern = "sliding_window_pattern"
            case legacySlidingWindowPattern = "_sliding_window_pattern"
            case ropeLocalBaseFreq = "rope_local_base_freq"
            case ropeParameters = "rope_parameters"
            case attnLogitSoftcapping = "attn_logit_softcapping"
            case finalLogitSoftcapping = "final_logit_softcapping"
            case useBidirectionalAttention = "use_bidirectional_attention"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hiddenActivation = try container.decodeIfPresent(String.self, forKey: .hiddenActivation)
            queryPreAttnScalar = try container.decodeIfPresent(Double.self, forKey: .queryPreAttnScalar)
            slidingWindowPattern = try container.decodeIfPresent(Int.self, forKey: .slidingWindowPattern)
            legacySlidingWindowPattern = try container.decodeIfPresent(Int.self, forKey: .legacySlidingWindowPattern)
            ropeLocalBaseFreq = try container.decodeIfPresent(Double.self, forKey: .ropeLocalBaseFreq)
            attnLogitSoftcapping = try container.decodeIfPresent(Double.self, forKey: .attnLogitSoftcapping)
            finalLogitSoftcapping = try container.decodeIfPresent(Double.self, forKey: .finalLogitSoftcapping)
            useBidirectionalAttention = try container.decodeIfPresent(Bool.self, forKey: .useBidirectionalAttention)
            // transformers 5 writes one RoPE dictionary per layer type.
            ropeByLayerType = try? container.decodeIfPresent([String: RopeScalingConfig].self, forKey: .ropeParameters)
            if ropeByLayerType?["full_attention"] == nil { ropeByLayerType = nil }
            shared = try TransformerConfig(from: decoder)
            if ropeByLayerType != nil { shared.ropeParameters = nil }
        }
    }

    public static func spec(config: Data, file: String) throws(ModelLoadError) -> DecoderSpec {
        let decoded = try ConfigDecoding.decode(Config.self, from: config, file: file)
        if let activation = decoded.hiddenActivation, activation != "gelu_pytorch_tanh", activation != "gelu_tanh" {
            throw .invalidConfig(file: file, key: "hidden_activation", reason: "\"\(activation)\" is not supported (supported: gelu_pytorch_tanh)")
        }
        for (key, value) in [("attn_logit_softcapping", decoded.attnLogitSoftcapping), ("final_logit_softcapping", decoded.finalLogitSoftcapping)] where value != nil {
            throw .invalidConfig(file: file, key: key, reason: "logit soft-capping is not supported")
        }
        if decoded.useBidirectionalAttention == true {
            throw .invalidConfig(file: file, key: "use_bidirectional_attention", reason: "bidirectional attention is not supported")
        }
        var shared = decoded.shared
        shared.tieWordEmbeddings = shared.tieWordEmbeddings ?? true
        let pattern = decoded.slidingWindowPattern ?? decoded.legacySlidingWindowPattern ?? 6
        var spec = try shared.spec(architecture: names[0], file: file, defaults: .init(rmsNormEps: 1e-6, ropeTheta: 1e6, maxPositions: 131_072),
                                   slidingLayer: { ($0 + 1) % max(pattern, 1) != 0 })
        // RoPE: global layers use rope_theta (+ rope_scaling), sliding layers their own base.
        if let byType = decoded.ropeByLayerType {
            let global = byType["full_attention"]!
            spec.rope.theta = global.ropeTheta ?? spec.rope.theta
            spec.rope.scaling = try global.scaling(file: file, key: "rope_parameters.full_attention")
            if let local = byType["sliding_attention"] {
                spec.localRope = RopeSpec(theta: local.ropeTheta ?? 10_000, scaling: try local.scaling(file: file, key: "rope_parameters.sliding_attention"),
                                          rotaryDim: spec.rope.rotaryDim)
            }
        } else {
            spec.localRope = RopeSpec(theta: decoded.ropeLocalBaseFreq ?? 10_000, rotaryDim: spec.rope.rotaryDim)
        }
        spec.activation = .geluTanh
        spec.embeddingScale = Float(Double(spec.hiddenSize).squareRoot())
        spec.sandwichNorms = true
        spec.qkNorm = true
        spec.normWeightOffset = 1
        spec.queryScale = Float(1 / (decoded.queryPreAttnScalar ?? Double(spec.headDim)).squareRoot())
        return spec
    }
}
