#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The architectures Peregrine runs, looked up by config.json's `architectures` or `model_type`.
public enum ArchitectureRegistry {
    public static let all: [any DecoderArchitecture.Type] = [Llama.self, Mistral.self, Qwen2.self, Qwen3.self, Mixtral.self, Gemma3.self]

    public static var supportedNames: [String] { all.flatMap { $0.names } }

    private struct Identity: Decodable {
        var architectures: [String]?
        var modelType: String?
        enum CodingKeys: String, CodingKey {
            case architectures
            case modelType = "model_type"
        }
    }

    /// The architecture config.json declares.
    public static func architecture(config: Data, file: String) throws(ModelLoadError) -> any DecoderArchitecture.Type {
        let identity = try ConfigDecoding.decode(Identity.self, from: config, file: file)
        if let declared = identity.architectures?.first {
            guard let match = all.first(where: { $0.names.contains(declared) }) else {
                throw .unsupportedArchitecture(file: file, name: declared)
            }
            return match
        }
        guard let modelType = identity.modelType else { throw .missingConfigKey(file: file, key: "architectures") }
        guard let match = all.first(where: { $0.modelTypes.contains(modelType) }) else {
            throw .unsupportedArchitecture(file: file, name: modelType)
        }
        return match
    }
}
