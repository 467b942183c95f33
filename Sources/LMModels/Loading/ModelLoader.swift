import LMTensor

/// A model ready to run: its decoder, spec and generation defaults.
public struct LoadedModel: Sendable {
    public let path: String
    public let model: DecoderModel
    public let generationConfig: GenerationConfig?
    /// The GGUF file, for models loaded from one (its metadata also holds the tokenizer).
    public let gguf: GGUFFile?

    public var spec: DecoderSpec { model.spec }

    /// The ids that end generation: generation_config.json's, else the model's own.
    public var eosTokenIDs: [Int32] {
        generationConfig?.eosTokenID?.ids ?? model.spec.eosTokenIDs
    }
}

/// Opens a model: a Hugging Face folder (config.json, generation_config.json, safetensors) or
/// a GGUF file.
public enum ModelLoader {
    public enum Format: Sendable {
        case huggingFace(architecture: any DecoderArchitecture.Type)
        case gguf(GGUFFile)
    }

    /// The format and spec of the model at `path`, without touching the weights.
    public static func inspect(path: String) throws(ModelLoadError) -> (Format, DecoderSpec) {
        if isDirectory(path) {
            let configPath = path + "/config.json"
            guard fileExists(configPath) else { throw .notAModel(path: path, reason: "no config.json") }
            let config = try ConfigDecoding.read(configPath)
            let architecture = try ArchitectureRegistry.architecture(config: config, file: configPath)
            return (.huggingFace(architecture: architecture), try architecture.spec(config: config, file: configPath))
        }
        guard fileExists(path) else { throw .cannotOpen(file: path, reason: "no such file or directory") }
        guard isGGUF(path) else {
            throw .notAModel(path: path, reason: "expected a Hugging Face model folder or a GGUF file")
        }
        let file = try GGUFFile(path: path)
        return (.gguf(file), try GGUFArchitecture.spec(file))
    }

    public static func load(path: String, backend: any Backend) throws -> LoadedModel {
        let (format, spec) = try inspect(path: path)
        switch format {
        case let .huggingFace(architecture):
            let generation = try GenerationConfig.load(directory: path)
            let checkpoint = try SafetensorsCheckpoint(directory: path)
            let model = try DecoderModel(spec: spec, source: checkpoint, names: architecture.tensorNames, backend: backend)
            return LoadedModel(path: path, model: model, generationConfig: generation, gguf: nil)
        case let .gguf(file):
            let model = try DecoderModel(spec: spec, source: GGUFCheckpoint(file: file), names: GGUFArchitecture.tensorNames, backend: backend)
            return LoadedModel(path: path, model: model, generationConfig: nil, gguf: file)
        }
    }

    /// Whether `path` is a file that starts with the GGUF magic.
    public static func isGGUFFile(_ path: String) -> Bool { !isDirectory(path) && isGGUF(path) }

    /// Whether the file starts with the GGUF magic.
    static func isGGUF(_ path: String) -> Bool {
        guard let file = try? MappedFile(path: path), file.count >= 4 else { return false }
        return file.loadLittleEndian(UInt32.self, at: 0) == 0x4655_4747
    }
}
