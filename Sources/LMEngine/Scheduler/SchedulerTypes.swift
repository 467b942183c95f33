/// Limits the scheduler works within.
public struct SchedulerConfig: Sendable, Equatable {
    /// Tokens run in one step, prompt chunks and decodes together.
    public var maxNumBatchedTokens = 2048
    /// Requests running at once.
    public var maxNumSeqs = 256
    /// Longest sequence (prompt plus output) a request may reach.
    public var maxModelLen = 4096
    /// Split long prompts over steps instead of running them whole.
    public var chunkedPrefill = true
    /// Requests allowed to wait; more are refused (HTTP 429 upstream).
    public var maxWaiting = 4096

    public init() {}
}

/// What the scheduler tracks of a request: its tokens and how far they are computed.
public struct SchedulerRequest: Sendable {
    public let id: RequestID
    public internal(set) var tokens: [Int32]
    public let promptCount: Int
    /// Leading tokens whose keys and values are in the cache, or will be once the steps
    /// planned so far have run.
    public internal(set) var computed = 0
    /// Tokens sampled by planned steps whose results are not applied yet.
    public internal(set) var pendingSamples = 0
    public let maxTokens: Int
    public let minTokens: Int
    /// Tokens that end the request (EOS unless ignored, plus `stop_token_ids`).
    public let stopTokenIDs: Set<Int32>
    /// Lower runs first among waiting requests; ties in arrival order.
    public let priority: Int
    /// Prefix-cache key extension (adapters, images).
    public let extraKey: UInt64
    /// Whether admission may reuse cached blocks (requests wanting prompt logprobs compute every position).
    public let readsPrefixCache: Bool
    public internal(set) var preemptions = 0
    /// Prompt tokens found in the prefix cache when the request was (last) admitted.
    public internal(set) var cachedPromptTokens = 0

    public init(id: RequestID, prompt: [Int32], maxTokens: Int, minTokens: Int = 0, stopTokenIDs: Set<Int32> = [],
                priority: Int = 0, extraKey: UInt64 = 0, readsPrefixCache: Bool = true) {
        self.id = id
        tokens = prompt
        promptCount = prompt.count
        self.maxTokens = maxTokens
        self.minTokens = minTokens
        self.stopTokenIDs = stopTokenIDs
        self.priority = priority
        self.extraKey = extraKey
        self.readsPrefixCache = readsPrefixCache
    }

    public var outputCount: Int { tokens.count - promptCount }
    /// Tokens known or pending: what the request's chunks may cover.
    public var knownCount: Int { tokens.count + pendingSamples }
    public var output: ArraySlice<Int32> { tokens[promptCount...] }
}

/// One request's share of a step: tokens `start ..< start + count` run through the model;
/// `samples` when the chunk reaches the request's last known token, so a new token is drawn.
/// The last token may still be pending (sampled by the step before, not yet applied).
public struct ScheduledChunk: Sendable, Equatable {
    public let id: RequestID
    public let start: Int
    public let count: Int
    public let samples: Bool
    /// The request's preemption count when planned: a chunk of an earlier admission is stale.
    public let admission: Int
}

/// A step's plan.
public struct SchedulerOutput: Sendable {
    public var chunks: [ScheduledChunk] = []
    public var preempted: [RequestID] = []
    public var tokenCount: Int { chunks.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { chunks.isEmpty }
}

/// Why a request ended.
public enum FinishReason: String, Sendable, Equatable, Codable {
    /// An end-of-sequence or stop token, or a stop string.
    case stop
    /// `max_tokens` or the context length reached.
    case length
    /// Cancelled by the client.
    case abort
}

/// A token a step produced for a request, and whether the request ended with it.
public struct TokenEvent: Sendable, Equatable {
    public let id: RequestID
    public let token: Int32
    public let finish: FinishReason?
    /// The request's prompt tokens served from the prefix cache (at its latest admission).
    public let cachedPromptTokens: Int
}
