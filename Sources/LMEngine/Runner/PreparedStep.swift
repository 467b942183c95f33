import LMTensor

/// A planned step's inputs, gathered on the core thread while the device still runs the step
/// before: the ragged batch (tokens, positions, KV slots, sequence spans), the logit rows to
/// sample, and the sampling states of requests the device has not seen yet. Everything the
/// device side needs travels here, so it never reads the scheduler.
public struct PreparedStep: Sendable {
    /// [T] token ids; a pending token (sampled by the step before) is filled in by the runner.
    public internal(set) var tokens: [Int32] = []
    /// (row of `tokens`, request) for each pending token.
    var pendingInputs: [(row: Int, id: RequestID)] = []
    /// [T] positions and KV cache slots.
    var positions: [Int32] = [], slots: [Int32] = []
    var spans: [SequenceSpan] = []
    /// Rows of the batch whose logits are needed, in order.
    var logitRows: [Int32] = []
    /// (request, index into `logitRows`) for each request drawing a token.
    var sampleRows: [(id: RequestID, row: Int)] = []
    /// (request, index into `logitRows`, prompt position predicted, the prompt token there).
    var promptRows: [(id: RequestID, row: Int, position: Int, token: Int32)] = []
    /// Sampling states of requests new to the device, and requests it can forget.
    public var newStates: [RequestID: SamplingState] = [:]
    public var released: [RequestID] = []

    public init() {}

    /// - Parameters:
    ///   - plan: the step just planned by `scheduler` (which has booked it already).
    ///   - promptLogprobs: top alternatives wanted per request asking for prompt logprobs.
    public init(_ plan: SchedulerOutput, scheduler: Scheduler, promptLogprobs: [RequestID: Int] = [:]) {
        let blockSize = scheduler.kv.blockSize
        for chunk in plan.chunks {
            guard let request = scheduler.requests[chunk.id] else { continue }
            let table = scheduler.kv.blockTable(chunk.id)
            let first = tokens.count
            for position in chunk.start..<(chunk.start + chunk.count) {
                if position < request.tokens.count {
                    tokens.append(request.tokens[position])
                } else {
                    // Only the newest token can be pending: a request samples once per step.
                    precondition(position == request.tokens.count, "chunk of request \(chunk.id) reaches past its pending token")
                    pendingInputs.append((tokens.count, chunk.id))
                    tokens.append(-1)
                }
                positions.append(Int32(position))
                slots.append(table[position / blockSize] * Int32(blockSize) + Int32(position % blockSize))
            }
            spans.append(SequenceSpan(queryStart: first, queryCount: chunk.count, contextLength: chunk.start + chunk.count, blockTable: table))
            if promptLogprobs[chunk.id] != nil {
                // Logits at position p predict the prompt token at p + 1.
                for position in chunk.start..<(chunk.start + chunk.count) where position + 1 < request.promptCount {
                    promptRows.append((chunk.id, logitRows.count, position + 1, request.tokens[position + 1]))
                    logitRows.append(Int32(first + position - chunk.start))
                }
            }
            if chunk.samples {
                sampleRows.append((chunk.id, logitRows.count))
                logitRows.append(Int32(tokens.count - 1))
            }
        }
    }

    public var isEmpty: Bool { tokens.isEmpty }
}
