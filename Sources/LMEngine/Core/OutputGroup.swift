import LMTokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The stream of one submitted request, shared by its `n` completions: it finishes when the
/// last completion does.
final class OutputGroup: @unchecked Sendable {
    let continuation: AsyncThrowingStream<RequestOutput, Error>.Continuation
    private var remaining: Int

    init(continuation: AsyncThrowingStream<RequestOutput, Error>.Continuation, count: Int) {
        self.continuation = continuation
        remaining = count
    }

    // Only the output thread calls these.
    func yield(_ output: RequestOutput) {
        continuation.yield(output)
        if output.finishReason != nil {
            remaining -= 1
            if remaining == 0 { continuation.finish() }
        }
    }

    func fail(_ error: Error) {
        remaining = 0
        continuation.finish(throwing: error)
    }
}

/// Output-side state of one completion.
struct OutputState {
    let group: OutputGroup
    let index: Int
    var detokenizer: StreamingDetokenizer?
    let promptCount: Int
    let arrival: Double
    var firstToken: Double?
    var completionTokens = 0
    var cachedPromptTokens = 0
    var sentPromptLogprobs = false
}
