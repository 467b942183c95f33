/// A tokenizer: added tokens, normalizer, pre-tokenizer, model, post-processor and decoder, as
/// Hugging Face `tokenizers` composes them; built from `tokenizer.json` or from a GGUF vocabulary.
/// `encode` and `decode` are safe to call from one thread at a time (the BPE word cache is not
/// shared across threads).
public final class Tokenizer: @unchecked Sendable {
    enum Model {
        case bpe(BPEModel)
        case scoredPieces(ScoredPieceModel)
    }

    let model: Model
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let postProcessor: PostProcessor?
    let decoder: TokenDecoder?
    let addedVocabulary: AddedVocabulary
    private let addedByID: [Int32: AddedToken]
    /// Special tokens and chat template from `tokenizer_config.json` or GGUF metadata.
    public internal(set) var configuration: TokenizerConfiguration

    init(model: Model, normalizer: Normalizer?, preTokenizer: PreTokenizer?, postProcessor: PostProcessor?,
         decoder: TokenDecoder?, addedTokens: [AddedToken], configuration: TokenizerConfiguration) {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        addedVocabulary = AddedVocabulary(addedTokens)
        addedByID = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.configuration = configuration
    }

    /// Tokens in the vocabulary (model tokens and added tokens).
    public var vocabularySize: Int {
        let modelSize = switch model {
        case let .bpe(bpe): bpe.tokens.count
        case let .scoredPieces(pieces): pieces.tokens.count
        }
        return max(modelSize, Int(addedByID.keys.max() ?? -1) + 1)
    }

    // MARK: Encoding

    /// The ids of `text`; with `addSpecialTokens` the post-processor adds BOS and friends.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        var atTextStart = true
        for segment in addedVocabulary.split(text, normalized: false) {
            switch segment {
            case let .token(id):
                ids.append(id)
                atTextStart = false
            case let .text(raw):
                let normalized = normalizer?.apply(raw) ?? raw
                for inner in addedVocabulary.split(normalized, normalized: true) {
                    switch inner {
                    case let .token(id): ids.append(id)
                    case let .text(piece): encodeModel(piece, atTextStart: atTextStart, into: &ids)
                    }
                    atTextStart = false
                }
            }
        }
        return addSpecialTokens ? postProcessor?.apply(ids) ?? ids : ids
    }

    private func encodeModel(_ text: String, atTextStart: Bool, into ids: inout [Int32]) {
        let words = preTokenizer?.apply([text], atTextStart: atTextStart) ?? [text]
        switch model {
        case let .bpe(bpe):
            for word in words where !word.isEmpty { bpe.encode(word, into: &ids) }
        case let .scoredPieces(pieces):
            for word in words where !word.isEmpty { pieces.encode(word, into: &ids) }
        }
    }

    // MARK: Decoding

    /// The text of `ids`; unknown ids are skipped. Without a decoder the tokens are joined with
    /// spaces, as Hugging Face tokenizers does.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        let tokens = tokenStrings(ids, skipSpecialTokens: skipSpecialTokens)
        return decoder.map { $0.apply(tokens).joined() } ?? tokens.joined(separator: " ")
    }

    func tokenStrings(_ ids: [Int32], skipSpecialTokens: Bool) -> [String] {
        ids.compactMap { id in
            if let added = addedByID[id] {
                return skipSpecialTokens && added.special ? nil : added.content
            }
            return token(for: id)
        }
    }

    /// The vocabulary string of an id (byte-level or `▁` spelling), or nil.
    public func token(for id: Int32) -> String? {
        if let added = addedByID[id] { return added.content }
        switch model {
        case let .bpe(bpe): return bpe.token(of: id)
        case let .scoredPieces(pieces): return id >= 0 && Int(id) < pieces.tokens.count ? pieces.tokens[Int(id)] : nil
        }
    }

    /// The id of a vocabulary string or added token, or nil.
    public func id(for token: String) -> Int32? {
        if let added = addedVocabulary.tokens.first(where: { $0.content == token }) { return added.id }
        switch model {
        case let .bpe(bpe): return bpe.id(of: token)
        case let .scoredPieces(pieces): return pieces.vocab[token]
        }
    }

    /// Whether `id` is a special (control) token, skipped by `skipSpecialTokens`.
    public func isSpecial(_ id: Int32) -> Bool { addedByID[id]?.special ?? false }
}
