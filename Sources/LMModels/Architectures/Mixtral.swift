#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Mixtral: Mistral whose MLP is a sparse mixture of `num_local_experts` SiLU-gated experts,
/// `num_experts_per_tok` per token: softmax over the router logits, top-k, weights renormalised.
/// Reference: transformers `models/mixtral/modeling_mixtral.py` (`MixtralSparseMoeBlock`).
public enum Mixtral: DecoderArchitecture {
    public static let names = ["MixtralForCausalLM"]
    public static let modelTypes = ["mixtral"]

    struct Config: Decodable {
        var shared: TransformerConfig
        var numLocalExperts: Int
        var numExpertsPerTok: Int

        enum CodingKeys: String, CodingKey {
            case numLocalExperts = "num_local_experts"
            case numExpertsPerTok = "num_experts_per_tok"
        }

        init(from decoder: any Decoder) throws {
            shared = try TransformerConfig(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            numLocalExperts = try container.decode(Int.self, forKey: .numLocalExperts)
            numExpertsPerTok = try container.decode(Int.self, forKey: .numExpertsPerTok)
        }
    }

    public static var tensorNames: TensorNames {
        var names = TensorNames.huggingFace
        names.router = "model.layers.{L}.block_sparse_moe.gate.weight"
        names.expertGate = "model.layers.{L}.block_sparse_moe.experts.{E}.w1.weight"
        names.expertDown = "model.layers.{L}.block_sparse_moe.experts.{E}.w2.weight"
        names.expertUp = "model.layers.{L}.block_sparse_moe.experts.{E}.w3.weight"
        return names
    }

    public static func spec(config: Data, file: String) throws(ModelLoadError) -> DecoderSpec {
        let decoded = try ConfigDecoding.decode(Config.self, from: config, file: file)
        var spec = try decoded.shared.spec(architecture: names[0], file: file, defaults: .init(rmsNormEps: 1e-5, ropeTheta: 1e6, maxPositions: 4096 * 32),
                                           slidingLayer: { _ in decoded.shared.slidingWindow != nil })
        guard decoded.numLocalExperts > 0, decoded.numExpertsPerTok > 0, decoded.numExpertsPerTok <= decoded.numLocalExperts else {
            throw .invalidConfig(file: file, key: "num_experts_per_tok",
                                 reason: "(\(decoded.numExpertsPerTok)) must be between 1 and num_local_experts (\(decoded.numLocalExperts))")
        }
        spec.experts = ExpertSpec(count: decoded.numLocalExperts, topK: decoded.numExpertsPerTok,
                                  intermediateSize: spec.intermediateSize, renormalize: true)
        return spec
    }
}
