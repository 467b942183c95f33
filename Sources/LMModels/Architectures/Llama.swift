#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Llama (1, 2, 3, 3.1 with `rope_scaling` llama3 or linear).
/// Reference: transformers `models/llama/modeling_llama.py` and `configuration_llama.py`.
public enum Llama: DecoderArchitecture {
    public static let names = ["LlamaForCausalLM"]
    public static let modelTypes = ["llama"]

    struct Config: Decodable {
        var shared: TransformerConfig
        var attentionBias: Bool?
        var mlpBias: Bool?

        enum CodingKeys: String, CodingKey {
            case attentionBias = "attention_bias"
            case mlpBias = "mlp_bias"
        }

        init(from decoder: any Decoder) throws {
            shared = try TransformerConfig(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            attentionBias = try container.decodeIfPresent(Bool.self, forKey: .attentionBias)
            mlpBias = try container.decodeIfPresent(Bool.self, forKey: .mlpBias)
        }
    }

    public static func spec(config: Data, file: String) throws(ModelLoadError) -> DecoderSpec {
        let decoded = try ConfigDecoding.decode(Config.self, from: config, file: file)
        var spec = try decoded.shared.spec(architecture: names[0], file: file, defaults: .init(rmsNormEps: 1e-6, maxPositions: 2048),
                                           slidingLayer: { _ in false })
        spec.qkvBias = decoded.attentionBias ?? false
        spec.outputBias = decoded.attentionBias ?? false
        spec.mlpBias = decoded.mlpBias ?? false
        return spec
    }
}
