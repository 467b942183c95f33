#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMTensor

/// Rotary position embedding of a model: base, frequency scaling, rotated dims and pairing.
public struct RopeSpec: Sendable, Equatable {
    public enum Scaling: Sendable, Equatable {
        case none
        /// Positions divided by `factor` (all frequencies scaled down).
        case linear(factor: Float)
        /// Llama 3.1: long wavelengths divided by `factor`, short kept, the band between smoothed.
        case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalMaxPositions: Int)
        /// Each frequency divided by its own factor (GGUF `rope_freqs.weight`, Llama 3.1 files).
        case frequencyFactors([Float])
    }

    public var theta: Double
    public var scaling: Scaling
    /// Leading dims of each head that rotate (the head dim unless partially rotary).
    public var rotaryDim: Int
    public var style: RopeStyle

    public init(theta: Double, scaling: Scaling = .none, rotaryDim: Int, style: RopeStyle = .neox) {
        self.theta = theta
        self.scaling = scaling
        self.rotaryDim = rotaryDim
        self.style = style
    }

    /// inv_freq[i] for i in 0..<rotaryDim/2, in f32 exactly as transformers computes it
    /// (`_compute_default_rope_parameters`, `_compute_linear_scaling_rope_parameters`,
    /// `_compute_llama3_parameters`).
    public func inverseFrequencies() -> [Float] {
        let base = Float(theta), dim = Float(rotaryDim)
        let plain = (0..<rotaryDim / 2).map { i in 1 / powf(base, Float(2 * i) / dim) }
        switch scaling {
        case .none:
            return plain
        case let .linear(factor):
            return plain.map { $0 / factor }
        case let .frequencyFactors(factors):
            return zip(plain, factors).map { $0 / $1 }
        case let .llama3(factor, low, high, original):
            let old = Float(original)
            let lowWavelength = old / low, highWavelength = old / high
            return plain.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                let scaled = wavelength > lowWavelength ? frequency / factor : frequency
                let isMedium = !(wavelength < highWavelength) && !(wavelength > lowWavelength)
                guard isMedium else { return scaled }
                let smooth = (old / wavelength - low) / (high - low)
                return (1 - smooth) * scaled / factor + smooth * scaled
            }
        }
    }
}

/// `rope_scaling` (transformers 4) or `rope_parameters` (transformers 5) as written in config.json.
struct RopeScalingConfig: Decodable, Equatable {
    var ropeType: String?
    var legacyType: String?
    var ropeTheta: Double?
    var factor: Float?
    var lowFreqFactor: Float?
    var highFreqFactor: Float?
    var originalMaxPositionEmbeddings: Int?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case legacyType = "type"
        case ropeTheta = "rope_theta"
        case factor
        case lowFreqFactor = "low_freq_factor"
        case highFreqFactor = "high_freq_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
    }

    var type: String { ropeType ?? legacyType ?? "default" }

    /// The scaling this dictionary describes; `key` names it in errors.
    func scaling(file: String, key: String) throws(ModelLoadError) -> RopeSpec.Scaling {
        func required<T>(_ value: T?, _ name: String) throws(ModelLoadError) -> T {
            guard let value else { throw .missingConfigKey(file: file, key: "\(key).\(name)") }
            return value
        }
        switch type {
        case "default":
            return .none
        case "linear":
            return .linear(factor: try required(factor, "factor"))
        case "llama3":
            return .llama3(factor: try required(factor, "factor"),
                           lowFrequencyFactor: try required(lowFreqFactor, "low_freq_factor"),
                           highFrequencyFactor: try required(highFreqFactor, "high_freq_factor"),
                           originalMaxPositions: try required(originalMaxPositionEmbeddings, "original_max_position_embeddings"))
        default:
            throw .invalidConfig(file: file, key: "\(key).rope_type", reason: "\"\(type)\" is not supported (supported: default, linear, llama3)")
        }
    }
}
