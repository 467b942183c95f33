#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Qwen2 / Qwen2.5: Llama with biases on q, k and v; sliding windows only when
/// `use_sliding_window` is true, from layer `max_window_layers` on (or as `layer_types` says).
/// Reference: transformers `models/qwen2/modeling_qwen2.py` and `configuration_qwen2.py`.
public enum Qwen2: DecoderArchitecture {
    public static let names = ["Qwen2ForCausalLM"]
    public static let modelTypes = ["qwen2"]

    struct Config: Decodable {
        var shared: TransformerConfig
        var window: SlidingWindowKeys

        init(from decoder: any Decoder) throws {
            shared = try TransformerConfig(from: decoder)
            window = try SlidingWindowKeys(from: decoder)
        }
    }

    public static func spec(config: Data, file: String) throws(ModelLoadError) -> DecoderSpec {
        let decoded = try ConfigDecoding.decode(Config.self, from: config, file: file)
        var spec = try decoded.shared.spec(architecture: names[0], file: file, defaults: .init(rmsNormEps: 1e-6, maxPositions: 32768),
                                           slidingLayer: decoded.window.slides)
        spec.qkvBias = true
        return spec
    }
}

/// Qwen's switch for sliding windows: `use_sliding_window` and the first layer that slides.
struct SlidingWindowKeys: Decodable {
    var useSlidingWindow: Bool?
    var maxWindowLayers: Int?

    enum CodingKeys: String, CodingKey {
        case useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers"
    }

    func slides(_ layer: Int) -> Bool {
        (useSlidingWindow ?? false) && layer >= (maxWindowLayers ?? 28)
    }
}
