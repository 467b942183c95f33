/// A GGUF file's tokenizer metadata (`tokenizer.ggml.*`), gathered by the caller that reads the
/// file, so this module depends on nothing else.
public struct GGUFVocabulary: Sendable {
    public var model: String              // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    public var pre: String?               // pre-tokenizer type: "llama-bpe", "qwen2", "gpt-2", "smollm", ...
    public var tokens: [String]
    public var scores: [Float]?
    public var tokenTypes: [Int32]?       // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
    public var merges: [String]?
    public var bosID: Int32?
    public var eosID: Int32?
    public var unknownID: Int32?
    public var paddingID: Int32?
    public var addBOS: Bool?
    public var addEOS: Bool?
    public var addSpacePrefix: Bool?
    public var chatTemplate: String?

    public init(model: String, tokens: [String]) {
        self.model = model
        self.tokens = tokens
    }
}

extension Tokenizer {
    /// The tokenizer llama.cpp builds from a GGUF vocabulary, on the same pipeline: byte-level
    /// BPE with the pre-tokenizer regexes of its `pre` type, or SentencePiece scores with
    /// `▁` spaces and byte fallback.
    public convenience init(gguf v: GGUFVocabulary, file: String) throws(TokenizerError) {
        let types = v.tokenTypes ?? []
        var added: [AddedToken] = []
        for (id, type) in types.enumerated() where type == 3 || type == 4 {
            added.append(AddedToken(content: v.tokens[id], id: Int32(id), special: type == 3))
        }
        var configuration = TokenizerConfiguration()
        configuration.bosTokenID = v.bosID
        configuration.eosTokenID = v.eosID
        configuration.bosToken = v.bosID.flatMap { $0 >= 0 && Int($0) < v.tokens.count ? v.tokens[Int($0)] : nil }
        configuration.eosToken = v.eosID.flatMap { $0 >= 0 && Int($0) < v.tokens.count ? v.tokens[Int($0)] : nil }
        configuration.chatTemplate = v.chatTemplate
        configuration.addBOS = v.addBOS
        configuration.addEOS = v.addEOS

        switch v.model {
        case "gpt2":
            var vocab: [String: Int32] = [:]
            vocab.reserveCapacity(v.tokens.count)
            for (id, token) in v.tokens.enumerated() where vocab[token] == nil { vocab[token] = Int32(id) }
            let merges = try (v.merges ?? []).enumerated().map { index, line throws(TokenizerError) -> (String, String) in
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw .invalid(file: file, key: "tokenizer.ggml.merges[\(index)]", reason: "\"\(line)\" is not \"left right\"") }
                return (String(parts[0]), String(parts[1]))
            }
            let pre = v.pre ?? "default"
            let bpe = try BPEModel(vocab: vocab, merges: merges, unknown: nil, fuseUnknown: false, byteFallback: false,
                                   ignoreMerges: ["llama-bpe", "llama3", "llama-v3"].contains(pre),
                                   continuingSubwordPrefix: nil, endOfWordSuffix: nil, file: file)
            let splits = try Self.llamaCppPreTokenizer(pre, file: file).map { PreTokenizer.split(pattern: $0, behavior: .isolated, invert: false) }
            self.init(model: .bpe(bpe), normalizer: nil,
                      preTokenizer: .sequence(splits + [.byteLevel(addPrefixSpace: false, useRegex: false)]),
                      postProcessor: Self.bosEOSTemplate(v, defaultBOS: false), decoder: .byteLevel,
                      addedTokens: added, configuration: configuration)
        case "llama":
            guard let scores = v.scores, scores.count == v.tokens.count else {
                throw .invalid(file: file, key: "tokenizer.ggml.scores", reason: "must hold one score per token")
            }
            let unknown = v.unknownID ?? types.firstIndex(of: 2).map(Int32.init)
            let prefix = v.addSpacePrefix ?? true
            var normalizers: [Normalizer] = []
            if prefix { normalizers.append(.prepend("\u{2581}")) }
            normalizers.append(.replace(pattern: .literal(" "), content: "\u{2581}"))
            self.init(model: .scoredPieces(ScoredPieceModel(tokens: v.tokens, scores: scores, unknownID: unknown)),
                      normalizer: .sequence(normalizers), preTokenizer: nil,
                      postProcessor: Self.bosEOSTemplate(v, defaultBOS: true),
                      decoder: .sequence([.replace(pattern: "\u{2581}", content: " "), .byteFallback, .fuse,
                                          .strip(content: " ", start: prefix ? 1 : 0, stop: 0)]),
                      addedTokens: added, configuration: configuration)
        default:
            throw .unsupported(file: file, component: "tokenizer.ggml.model", type: v.model)
        }
    }

    private static func bosEOSTemplate(_ v: GGUFVocabulary, defaultBOS: Bool) -> PostProcessor? {
        var pieces: [PostProcessor.Piece] = []
        if v.addBOS ?? defaultBOS, let bos = v.bosID { pieces.append(.special([bos])) }
        pieces.append(.sequence)
        if v.addEOS ?? false, let eos = v.eosID { pieces.append(.special([eos])) }
        return pieces.count > 1 ? .template(pieces) : nil
    }

    /// llama.cpp's pre-tokenizer regexes per `tokenizer.ggml.pre` (llm_tokenizer_bpe), applied
    /// in sequence with every unmatched run kept as its own piece.
    static func llamaCppPreTokenizer(_ pre: String, file: String) throws(TokenizerError) -> [SplitPattern] {
        switch pre {
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe":
            return [.llama3(maxDigits: 3)]
        case "qwen2", "stablelm2", "hunyuan", "deepseek-r1-qwen", "grok-2":
            return [.llama3(maxDigits: 1)]
        case "gpt-2", "mpt", "olmo", "jais", "trillion", "granite-docling", "phi-2":
            return [.gpt2]
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
            return [.digits(individual: true), .gpt2]
        case "default":
            return [try SplitPattern.compile(regex: #"[\p{P}\$\+<=>\^~\|]+"#), .gpt2, .digits(individual: false),
                    try SplitPattern.compile(regex: "[0-9][0-9][0-9]")]
        default:
            throw .unsupported(file: file, component: "tokenizer.ggml.pre", type: pre)
        }
    }
}
