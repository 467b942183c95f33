import LMTensor

/// A model ready to run: its decoder, spec and generation defaults.
public struct LoadedModel: Sendable {
    public let path: String
    public let model: DecoderModel
    public let generationConfig: GenerationConfig?

    public var spec: DecoderSpec { model.spec }

    /// The ids that end generation: generation_config.json's, else config.json's.
    public var eosTokenIDs: [Int32] {
        generationConfig?.eosTokenID?.ids ?? model.spec.eosTokenIDs
    }
}

/// Opens a Hugging Face model folder (config.json, generation_config.json, safetensors).
public enum ModelLoader {
    /// The architecture and spec of the folder, without touching the weights.
    public static func spec(directory: String) throws(ModelLoadError) -> (any DecoderArchitecture.Type, DecoderSpec) {
        guard isDirectory(directory) else {
            throw fileExists(directory) ? .notAModel(path: directory, reason: "expected a Hugging Face model folder")
                                        : .cannotOpen(file: directory, reason: "no such file or directory")
        }
        let configPath = directory + "/config.json"
        guard fileExists(configPath) else { throw .notAModel(path: directory, reason: "no config.json") }
        let config = try ConfigDecoding.read(configPath)
        let architecture = try ArchitectureRegistry.architecture(config: config, file: configPath)
        return (architecture, try architecture.spec(config: config, file: configPath))
    }

    public static func load(directory: String, backend: any Backend) throws -> LoadedModel {
        let (architecture, spec) = try spec(directory: directory)
        let generation = try GenerationConfig.load(directory: directory)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let model = try DecoderModel(spec: spec, source: checkpoint, names: architecture.tensorNames, backend: backend)
        return LoadedModel(path: directory, model: model, generationConfig: generation)
    }
}
