import LMEngine

/// The sampling fields completions and chat share (OpenAI's, plus vLLM's extras), decoded from
/// the same JSON object as the request around them.
public struct SamplingFields: Decodable, Equatable, Sendable {
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    public var n: Int?
    public var seed: Int?
    public var stop: [String] = []
    public var stopTokenIDs: [Int]?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var repetitionPenalty: Double?
    public var logitBias: [String: Double]?
    public var minTokens: Int?
    public var ignoreEOS: Bool?
    public var skipSpecialTokens: Bool?
    public var stream: Bool?
    public var includeUsage: Bool?
    public var user: String?

    enum CodingKeys: String, CodingKey {
        case maxTokens = "max_tokens", temperature, topP = "top_p", topK = "top_k", minP = "min_p", n, seed, stop
        case stopTokenIDs = "stop_token_ids", presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty", logitBias = "logit_bias", minTokens = "min_tokens"
        case ignoreEOS = "ignore_eos", skipSpecialTokens = "skip_special_tokens", stream, streamOptions = "stream_options", user
    }

    struct StreamOptions: Decodable { var includeUsage: Bool?; enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" } }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxTokens = try c.decodeInteger(forKey: .maxTokens)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        topK = try c.decodeInteger(forKey: .topK)
        minP = try c.decodeIfPresent(Double.self, forKey: .minP)
        n = try c.decodeInteger(forKey: .n)
        seed = try c.decodeInteger(forKey: .seed)
        // `stop`: a string or a list of strings (OpenAI allows up to 4).
        if let single = try? c.decodeIfPresent(String.self, forKey: .stop) {
            stop = [single]
        } else {
            stop = try c.decodeIfPresent([String].self, forKey: .stop) ?? []
        }
        stopTokenIDs = try c.decodeIfPresent([Int].self, forKey: .stopTokenIDs)
        presencePenalty = try c.decodeIfPresent(Double.self, forKey: .presencePenalty)
        frequencyPenalty = try c.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        repetitionPenalty = try c.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
        logitBias = try c.decodeIfPresent([String: Double].self, forKey: .logitBias)
        minTokens = try c.decodeInteger(forKey: .minTokens)
        ignoreEOS = try c.decodeIfPresent(Bool.self, forKey: .ignoreEOS)
        skipSpecialTokens = try c.decodeIfPresent(Bool.self, forKey: .skipSpecialTokens)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        includeUsage = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage
        user = try c.decodeIfPresent(String.self, forKey: .user)
    }

    /// The engine's parameters; `maxTokens` falls back to what the context leaves after the prompt.
    public func parameters(defaultMaxTokens: Int) throws(APIError) -> SamplingParameters {
        var p = SamplingParameters()
        func float(_ value: Double?, _ name: String) throws(APIError) -> Float? {
            guard let value else { return nil }
            guard value.isFinite, abs(value) < 1e9 else { throw .invalid("\(name) must be a finite number", param: name) }
            return Float(value)
        }
        if let value = try float(temperature, "temperature") { p.temperature = value }
        if let value = try float(topP, "top_p") { p.topP = value }
        if let value = try float(minP, "min_p") { p.minP = value }
        if let value = try float(presencePenalty, "presence_penalty") { p.presencePenalty = value }
        if let value = try float(frequencyPenalty, "frequency_penalty") { p.frequencyPenalty = value }
        if let value = try float(repetitionPenalty, "repetition_penalty") { p.repetitionPenalty = value }
        if let topK { p.topK = topK == -1 ? 0 : topK }   // vLLM: -1 keeps every token
        if let n { p.n = n }
        if let seed { p.seed = UInt64(bitPattern: Int64(seed)) }
        p.maxTokens = maxTokens ?? defaultMaxTokens
        if let minTokens { p.minTokens = minTokens }
        guard stop.count <= 16 else { throw .invalid("stop may hold at most 16 strings", param: "stop") }
        guard !stop.contains("") else { throw .invalid("stop strings must not be empty", param: "stop") }
        p.stopStrings = stop
        if let stopTokenIDs {
            guard stopTokenIDs.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else {
                throw .invalid("stop_token_ids must be token ids", param: "stop_token_ids")
            }
            p.stopTokenIDs = stopTokenIDs.map(Int32.init)
        }
        if let logitBias {
            for (key, bias) in logitBias {
                guard let token = Int32(key), token >= 0 else { throw .invalid("logit_bias keys must be token ids, got \"\(key)\"", param: "logit_bias") }
                guard let value = try float(bias, "logit_bias") else { continue }
                p.logitBias[token] = value
            }
        }
        if let ignoreEOS { p.ignoreEOS = ignoreEOS }
        if let skipSpecialTokens { p.skipSpecialTokens = skipSpecialTokens }
        return p
    }
}
