import LMModels
import LMTensor

/// Runs a scheduled step on the model: gathers each chunk's tokens, positions and KV slots
/// into one ragged batch, runs the forward pass, and samples the requests that need a token.
public final class ModelRunner {
    public let model: DecoderModel
    let cache: KVCache
    let sampler = Sampler()

    /// What a step produced.
    public struct Output: Sendable {
        public var sampled: [RequestID: SampledToken] = [:]
        /// For requests that asked for prompt logprobs: (position of the predicted prompt token,
        /// its logprob and the top alternatives) for every prompt token this chunk predicted.
        public var promptLogprobs: [RequestID: [(position: Int, value: SampledToken)]] = [:]
        public var tokens: [RequestID: Int32] { sampled.mapValues(\.token) }
    }

    public init(model: DecoderModel, blockCount: Int, blockSize: Int) throws {
        self.model = model
        cache = try model.makeKVCache(blockCount: blockCount, blockSize: blockSize)
    }

    /// - Parameters:
    ///   - states: sampling state per request (advanced for the requests sampled).
    public func execute(_ step: SchedulerOutput, scheduler: Scheduler, states: inout [RequestID: SamplingState]) throws -> Output {
        var output = Output()
        guard !step.isEmpty else { return output }
        var tokens: [Int32] = [], positions: [Int32] = [], slots: [Int32] = []
        var spans: [SequenceSpan] = [], rows: [Int32] = []
        var sampleRows: [(id: RequestID, row: Int)] = []
        var promptRows: [(id: RequestID, row: Int, position: Int)] = []
        let blockSize = cache.layout.blockSize
        for chunk in step.chunks {
            guard let request = scheduler.requests[chunk.id] else { continue }
            let table = scheduler.kv.blockTable(chunk.id)
            let first = tokens.count
            for position in chunk.start..<(chunk.start + chunk.count) {
                tokens.append(request.tokens[position])
                positions.append(Int32(position))
                slots.append(table[position / blockSize] * Int32(blockSize) + Int32(position % blockSize))
            }
            spans.append(SequenceSpan(queryStart: first, queryCount: chunk.count, contextLength: chunk.start + chunk.count, blockTable: table))
            if let wanted = states[chunk.id]?.parameters.promptLogprobs, wanted >= 0 {
                // Logits at position p predict the prompt token at p + 1.
                for position in chunk.start..<(chunk.start + chunk.count) where position + 1 < request.promptCount {
                    promptRows.append((chunk.id, rows.count, position + 1))
                    rows.append(Int32(first + position - chunk.start))
                }
            }
            if chunk.samples {
                sampleRows.append((chunk.id, rows.count))
                rows.append(Int32(tokens.count - 1))
            }
        }
        guard !rows.isEmpty else {
            // Only prompt chunks that sample nothing: still run them to fill the cache.
            _ = try model.forward(ForwardBatch(tokens: tokens, positions: positions,
                                               attention: AttentionBatch(sequences: spans, slotMapping: slots, blockSize: blockSize),
                                               logitRows: [0]), cache: cache)
            return output
        }
        let logits = try model.forward(ForwardBatch(tokens: tokens, positions: positions,
                                                    attention: AttentionBatch(sequences: spans, slotMapping: slots, blockSize: blockSize),
                                                    logitRows: rows), cache: cache)
        let vocab = model.spec.vocabSize
        // Greedy requests without logprobs or logit changes only need the argmax.
        let plain = promptRows.isEmpty && sampleRows.allSatisfy { entry in
            guard let p = states[entry.id]?.parameters else { return true }
            return p.isGreedy && p.logprobs == nil && p.logitBias.isEmpty && p.minTokens == 0 && p.repetitionPenalty == 1
                && p.presencePenalty == 0 && p.frequencyPenalty == 0
        }
        if plain {
            let best = model.backend.argmax(logits)
            for entry in sampleRows {
                states[entry.id]?.record(best[entry.row])
                output.sampled[entry.id] = SampledToken(token: best[entry.row], logprob: nil, topLogprobs: [])
            }
            return output
        }
        var values = model.backend.download(logits)
        values.withUnsafeMutableBufferPointer { all in
            for entry in promptRows {
                let row = Array(all[(entry.row * vocab)..<((entry.row + 1) * vocab)])
                let request = scheduler.requests[entry.id]!
                let value = Sampler.logprobs(row, token: request.tokens[entry.position], top: states[entry.id]?.parameters.promptLogprobs ?? 0)
                output.promptLogprobs[entry.id, default: []].append((entry.position, value))
            }
            for entry in sampleRows {
                guard var state = states[entry.id] else { continue }
                let row = UnsafeMutableBufferPointer(rebasing: all[(entry.row * vocab)..<((entry.row + 1) * vocab)])
                output.sampled[entry.id] = sampler.sample(row, &state)
                states[entry.id] = state
            }
        }
        return output
    }
}
