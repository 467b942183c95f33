import LMModels
import LMTokenizers

/// Finds and loads the tokenizer of a model path: a Hugging Face folder, a tokenizer.json file,
/// or a GGUF file (whose `tokenizer.ggml.*` metadata holds the vocabulary).
public enum TokenizerLoader {
    public static func load(path: String) throws -> Tokenizer {
        if path.hasSuffix(".gguf") || ModelLoader.isGGUFFile(path) {
            return try load(gguf: GGUFFile(path: path))
        }
        return try Tokenizer.load(path: path)
    }

    public static func load(gguf file: GGUFFile) throws -> Tokenizer {
        let m = file.metadata
        guard let model = m["tokenizer.ggml.model"]?.stringValue else {
            throw ModelLoadError.missingMetadata(file: file.path, key: "tokenizer.ggml.model")
        }
        func strings(_ key: String) throws -> [String]? {
            guard let array = m[key]?.arrayValue else { return nil }
            return try array.map { value in
                guard let text = value.stringValue else { throw ModelLoadError.ggufInvalidMetadata(file: file.path, key: key, reason: "holds a non-string") }
                return text
            }
        }
        guard let tokens = try strings("tokenizer.ggml.tokens") else {
            throw ModelLoadError.missingMetadata(file: file.path, key: "tokenizer.ggml.tokens")
        }
        var vocabulary = GGUFVocabulary(model: model, tokens: tokens)
        vocabulary.pre = m["tokenizer.ggml.pre"]?.stringValue
        vocabulary.scores = m["tokenizer.ggml.scores"]?.arrayValue?.map { Float($0.doubleValue ?? 0) }
        vocabulary.tokenTypes = m["tokenizer.ggml.token_type"]?.arrayValue?.map { Int32($0.intValue ?? 1) }
        vocabulary.merges = try strings("tokenizer.ggml.merges")
        vocabulary.bosID = m["tokenizer.ggml.bos_token_id"]?.intValue.map(Int32.init)
        vocabulary.eosID = m["tokenizer.ggml.eos_token_id"]?.intValue.map(Int32.init)
        vocabulary.unknownID = m["tokenizer.ggml.unknown_token_id"]?.intValue.map(Int32.init)
        vocabulary.paddingID = m["tokenizer.ggml.padding_token_id"]?.intValue.map(Int32.init)
        vocabulary.addBOS = m["tokenizer.ggml.add_bos_token"]?.boolValue
        vocabulary.addEOS = m["tokenizer.ggml.add_eos_token"]?.boolValue
        vocabulary.addSpacePrefix = m["tokenizer.ggml.add_space_prefix"]?.boolValue
        vocabulary.chatTemplate = m["tokenizer.chat_template"]?.stringValue
        return try Tokenizer(gguf: vocabulary, file: file.path)
    }
}
