#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Mistral: Llama with sliding-window attention on every layer when `sliding_window` is set.
/// Reference: transformers `models/mistral/modeling_mistral.py` and `configuration_mistral.py`.
public enum Mistral: DecoderArchitecture {
    public static let names = ["MistralForCausalLM"]
    public static let modelTypes = ["mistral"]

    public static func spec(config: Data, file: String) throws(ModelLoadError) -> DecoderSpec {
        let shared = try ConfigDecoding.decode(TransformerConfig.self, from: config, file: file)
        return try shared.spec(architecture: names[0], file: file, defaults: .init(rmsNormEps: 1e-6, maxPositions: 4096 * 32),
                               slidingLayer: { _ in shared.slidingWindow != nil })
    }
}
