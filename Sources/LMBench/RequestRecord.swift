/// What one benchmark request saw, in seconds from its own start.
public struct RequestRecord: Sendable, Equatable {
    public var success = false
    public var error: String?
    /// Prompt and output tokens as the server counted them (usage), else as generated/streamed.
    public var promptTokens = 0
    public var outputTokens = 0
    /// Time to the first chunk carrying text.
    public var timeToFirstToken = 0.0
    /// Gaps between chunks carrying text (inter-token latency).
    public var interTokenLatencies: [Double] = []
    public var latency = 0.0

    public init() {}

    /// Time per output token after the first; nil for single-token outputs.
    public var timePerOutputToken: Double? {
        outputTokens > 1 ? (latency - timeToFirstToken) / Double(outputTokens - 1) : nil
    }
}
