/// How one request's tokens are chosen, as the OpenAI API and vLLM define the fields.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy.
    public var temperature: Float = 1
    /// 0 (or less) keeps every token.
    public var topK = 0
    public var topP: Float = 1
    public var minP: Float = 0
    /// Divides positive logits (multiplies negative ones) of tokens in the prompt or output (> 1 discourages).
    public var repetitionPenalty: Float = 1
    /// Subtracted once from the logits of tokens already in the output.
    public var presencePenalty: Float = 0
    /// Subtracted per occurrence from the logits of tokens already in the output.
    public var frequencyPenalty: Float = 0
    /// Added to the logits of the given tokens.
    public var logitBias: [Int32: Float] = [:]
    /// Makes sampling reproducible for this request, whatever else runs beside it.
    public var seed: UInt64?
    public var maxTokens = 16
    public var minTokens = 0
    public var stopTokenIDs: [Int32] = []
    public var stopStrings: [String] = []
    public var ignoreEOS = false
    /// Alternatives to report with each sampled token (nil: no logprobs).
    public var logprobs: Int?
    /// Alternatives to report for each prompt token (nil: none).
    public var promptLogprobs: Int?
    /// Completions to generate for the prompt.
    public var n = 1
    public var skipSpecialTokens = true

    public init() {}

    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    /// Whether choosing a token needs the whole row of logits on the host: prompt logprobs are
    /// computed there (a sampled token's logprobs are computed where the logits are).
    public var needsHostLogits: Bool { promptLogprobs != nil }

    /// Whether logit biases, the min-tokens mask or penalties change the logits before the
    /// choice (as `SamplingState.logitEdits`, applied where the logits are).
    public var editsLogits: Bool {
        !logitBias.isEmpty || minTokens > 0 || repetitionPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0
    }

    /// Whether those edits depend on which tokens were produced so far (penalties): a token
    /// drawn but not yet read back is then counted on the device (`PendingDraw`). The min-tokens
    /// mask depends only on how many, which the host knows before their values arrive.
    public var editsDependOnOutputTokens: Bool {
        repetitionPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0
    }

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case field(String, String)
        public var description: String {
            switch self { case let .field(name, reason): "\(name) \(reason)" }
        }
    }

    /// Checks ranges as the OpenAI API documents them.
    public func validate(vocabularySize: Int) throws(Invalid) {
        guard temperature >= 0, temperature.isFinite else { throw .field("temperature", "must be at least 0") }
        guard topP > 0, topP <= 1 else { throw .field("top_p", "must be in (0, 1]") }
        guard minP >= 0, minP <= 1 else { throw .field("min_p", "must be in [0, 1]") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw .field("repetition_penalty", "must be greater than 0") }
        guard presencePenalty >= -2, presencePenalty <= 2 else { throw .field("presence_penalty", "must be between -2 and 2") }
        guard frequencyPenalty >= -2, frequencyPenalty <= 2 else { throw .field("frequency_penalty", "must be between -2 and 2") }
        guard maxTokens >= 1 else { throw .field("max_tokens", "must be at least 1") }
        guard minTokens >= 0, minTokens <= maxTokens else { throw .field("min_tokens", "must be between 0 and max_tokens") }
        guard n >= 1, n <= 128 else { throw .field("n", "must be between 1 and 128") }
        if let logprobs, logprobs < 0 || logprobs > 20 { throw .field("logprobs", "must be between 0 and 20") }
        if let promptLogprobs, promptLogprobs < 0 || promptLogprobs > 20 { throw .field("prompt_logprobs", "must be between 0 and 20") }
        for (token, bias) in logitBias {
            guard token >= 0, Int(token) < vocabularySize else { throw .field("logit_bias", "names token \(token) outside the vocabulary") }
            guard bias >= -100, bias <= 100 else { throw .field("logit_bias", "values must be between -100 and 100") }
        }
        for token in stopTokenIDs where token < 0 || Int(token) >= vocabularySize {
            throw .field("stop_token_ids", "names token \(token) outside the vocabulary")
        }
    }
}
