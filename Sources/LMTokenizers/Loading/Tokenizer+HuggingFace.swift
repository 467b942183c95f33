#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Tokenizer {
    /// Loads a Hugging Face tokenizer: a model folder (tokenizer.json, tokenizer_config.json,
    /// chat_template.jinja) or a tokenizer.json file.
    public static func load(path: String) throws(TokenizerError) -> Tokenizer {
        var isDirectory = false
        let directory: String, jsonPath: String
        if fileExists(path, isDirectory: &isDirectory), isDirectory {
            directory = path
            jsonPath = path + "/tokenizer.json"
        } else {
            directory = path.deletingLastPathComponent
            jsonPath = path
        }
        let data = try read(jsonPath)
        let tokenizer = try Tokenizer(json: data, file: jsonPath)
        let configPath = directory + "/tokenizer_config.json"
        if fileExists(configPath) {
            tokenizer.configuration = try TokenizerConfigFile.read(try read(configPath), file: configPath, tokenizer: tokenizer)
        }
        let templatePath = directory + "/chat_template.jinja"
        if fileExists(templatePath) {
            tokenizer.configuration.chatTemplate = String(decoding: try read(templatePath), as: UTF8.self)
        }
        return tokenizer
    }

    /// A tokenizer from the bytes of a tokenizer.json (`file` names it in errors).
    public convenience init(json data: Data, file: String) throws(TokenizerError) {
        let decoded: TokenizerJSON.File
        do {
            decoded = try JSONDecoder().decode(TokenizerJSON.File.self, from: data)
        } catch {
            throw .invalidJSON(file: file, reason: "\(error)")
        }
        guard decoded.model.type == "BPE" else { throw .unsupported(file: file, component: "model", type: decoded.model.type) }
        let builder = TokenizerBuilder(file: file)
        let m = decoded.model
        let bpe = try BPEModel(vocab: m.vocab, merges: m.merges, unknown: m.unknownToken, fuseUnknown: m.fuseUnknown,
                               byteFallback: m.byteFallback, ignoreMerges: m.ignoreMerges,
                               continuingSubwordPrefix: m.continuingSubwordPrefix, endOfWordSuffix: m.endOfWordSuffix, file: file)
        let added = decoded.addedTokens.map(\.token)
        let lookup = { (token: String) -> Int32? in added.first { $0.content == token }?.id ?? m.vocab[token] }
        self.init(model: .bpe(bpe),
                  normalizer: try decoded.normalizer.map(builder.normalizer),
                  preTokenizer: try decoded.preTokenizer.map(builder.preTokenizer),
                  postProcessor: try decoded.postProcessor.map { c throws(TokenizerError) in try builder.postProcessor(c, vocabulary: lookup) },
                  decoder: try decoded.decoder.map(builder.decoder),
                  addedTokens: added, configuration: TokenizerConfiguration())
    }

    static func read(_ path: String) throws(TokenizerError) -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .cannotRead(file: path, reason: fileExists(path) ? "\(error)" : "no such file")
        }
    }
}

/// `tokenizer_config.json`: special token strings (plain or as AddedToken objects), add_bos /
/// add_eos, and the chat template (a string or a list of named templates).
enum TokenizerConfigFile {
    static func read(_ data: Data, file: String, tokenizer: Tokenizer) throws(TokenizerError) -> TokenizerConfiguration {
        let root: TokenizerJSON.Component
        do { root = try JSONDecoder().decode(TokenizerJSON.Component.self, from: data) } catch {
            throw .invalidJSON(file: file, reason: "\(error)")
        }
        func token(_ key: String) -> String? { root[key]?.string ?? root[key]?["content"]?.string }
        var config = TokenizerConfiguration()
        config.bosToken = token("bos_token")
        config.eosToken = token("eos_token")
        config.padToken = token("pad_token")
        config.unknownToken = token("unk_token")
        config.bosTokenID = config.bosToken.flatMap(tokenizer.id(for:))
        config.eosTokenID = config.eosToken.flatMap(tokenizer.id(for:))
        config.addBOS = root["add_bos_token"]?.bool
        config.addEOS = root["add_eos_token"]?.bool
        if let template = root["chat_template"]?.string {
            config.chatTemplate = template
        } else if let list = root["chat_template"]?.array {
            for entry in list {
                guard let name = entry["name"]?.string, let template = entry["template"]?.string else { continue }
                if name == "default" { config.chatTemplate = template } else { config.namedChatTemplates[name] = template }
            }
        }
        return config
    }
}
