/// vLLM's `/tokenize` and `/detokenize`.
extension OpenAIService {
    /// `{"prompt": text, "add_special_tokens": true}` or chat `messages` (rendered through the
    /// template, as `/v1/chat/completions` would) in; token ids out.
    public struct TokenizeRequest: Decodable, Sendable {
        public var model: String?
        public var prompt: String?
        public var addSpecialTokens: Bool
        public var chat: ChatCompletionRequest?

        enum CodingKeys: String, CodingKey { case model, prompt, messages, addSpecialTokens = "add_special_tokens" }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            model = try c.decodeIfPresent(String.self, forKey: .model)
            prompt = try c.decodeIfPresent(String.self, forKey: .prompt)
            if c.contains(.messages) { chat = try ChatCompletionRequest(from: decoder) }
            guard (prompt == nil) != (chat == nil) else {
                throw DecodingError.dataCorruptedError(forKey: .prompt, in: c, debugDescription: "give either prompt or messages")
            }
            addSpecialTokens = try c.decodeIfPresent(Bool.self, forKey: .addSpecialTokens) ?? (chat == nil)
        }
    }

    public struct TokenizeResponse: Codable, Equatable, Sendable {
        public var count: Int
        public var maxModelLen: Int
        public var tokens: [Int32]
        enum CodingKeys: String, CodingKey { case count, maxModelLen = "max_model_len", tokens }
    }

    public struct DetokenizeRequest: Decodable, Sendable {
        public var model: String?
        public var tokens: [Int32]
    }

    public struct DetokenizeResponse: Codable, Equatable, Sendable {
        public var prompt: String
    }

    public func tokenize(_ request: TokenizeRequest) throws(APIError) -> TokenizeResponse {
        try checkModel(request.model)
        let text = try request.chat.map { chat throws(APIError) in try render(chat) } ?? request.prompt ?? ""
        let tokens = tokenizer.encode(text, addSpecialTokens: request.addSpecialTokens)
        return TokenizeResponse(count: tokens.count, maxModelLen: settings.maxModelLen, tokens: tokens)
    }

    public func detokenize(_ request: DetokenizeRequest) throws(APIError) -> DetokenizeResponse {
        try checkModel(request.model)
        let vocabulary = engine.model.spec.vocabSize
        if let bad = request.tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw .invalid("token \(bad) is outside the vocabulary (0..<\(vocabulary))", param: "tokens")
        }
        return DetokenizeResponse(prompt: tokenizer.decode(request.tokens, skipSpecialTokens: false))
    }
}
