#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Qwen3: per-head RMSNorm of queries and keys before RoPE, an explicit `head_dim`, optional
/// `attention_bias` on all four attention projections.
/// Reference: transformers `models/qwen3/modeling_qwen3.py` and `configuration_qwen3.py`.
public enum Qwen3: DecoderArchitecture {
    public static let names = ["Qwen3ForCausalLM"]
    public static let modelTypes = ["qwen3"]

    struct Config: Decodable {
        var shared: TransformerConfig
        var window: SlidingWindowKeys
        var attentionBias: Bool?

        enum CodingKeys: String, CodingKey { case attentionBias = "attention_bias" }

        init(from decoder: any Decoder) throws {
            shared = try TransformerConfig(from: decoder)
            window = try SlidingWindowKeys(from: decoder)
            attentionBias = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Bool.self, forKey: .attentionBias)
        }
    }

    public static func spec(config: Data, file: String) throws(ModelLoadError) -> DecoderSpec {
        let decoded = try ConfigDecoding.decode(Config.self, from: config, file: file)
        var spec = try decoded.shared.spec(architecture: names[0], file: file, defaults: .init(rmsNormEps: 1e-6, maxPositions: 32768),
                                           slidingLayer: decoded.window.slides)
        spec.qkNorm = true
        spec.qkvBias = decoded.attentionBias ?? false
        spec.outputBias = decoded.attentionBias ?? false
        return spec
    }
}
