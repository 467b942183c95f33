import LMTokenizers

/// A request to the engine: prompt token ids and how to sample.
public struct GenerationRequest: Sendable {
    public var prompt: [Int32]
    public var parameters: SamplingParameters
    /// Lower runs first among waiting requests.
    public var priority = 0
    /// The caller's id, for `Engine.abort`.
    public var id: String

    public init(prompt: [Int32], parameters: SamplingParameters = SamplingParameters(), priority: Int = 0, id: String? = nil) {
        self.prompt = prompt
        self.parameters = parameters
        self.priority = priority
        self.id = id ?? "req-\(RandomSource.randomSeed())"
    }
}

/// What a generation stream yields: the new tokens (and final text) of one of the request's
/// `n` completions since its previous output, with running totals.
public struct RequestOutput: Sendable {
    /// Which completion (0 ..< n).
    public var index: Int
    public var tokens: [Int32]
    /// Text that became final with these tokens (stop strings excluded).
    public var text: String
    /// Per new token, when logprobs were requested.
    public var logprobs: [SampledToken]
    public var finishReason: FinishReason?
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens served from the prefix cache.
    public var cachedPromptTokens: Int
    /// With `prompt_logprobs`, on the first output: logprob of each prompt token after the first.
    public var promptLogprobs: [SampledToken]?
}

/// Errors a request can end with.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case queueFull(limit: Int)
    case tooLong(tokens: Int, limit: Int)
    case shuttingDown
    case failed(String)

    public var description: String {
        switch self {
        case let .invalid(reason): reason
        case let .queueFull(limit): "the engine's queue is full (\(limit) requests waiting)"
        case let .tooLong(tokens, limit): "the request needs \(tokens) tokens, more than the \(limit) the engine can hold"
        case .shuttingDown: "the engine is shutting down"
        case let .failed(reason): "the request failed: \(reason)"
        }
    }
}
