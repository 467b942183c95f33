import LMModels
import LMTensor

/// The device side of a step: runs a prepared ragged batch through the model and samples the
/// requests that need a token. Owns the KV cache and the requests' sampling states; steps must
/// run in the order they were planned (a pending input token is the previous step's sample).
public final class ModelRunner {
    public let model: DecoderModel
    let cache: KVCache
    let sampler = Sampler()
    private var states: [RequestID: SamplingState] = [:]
    /// Each request's latest sample: the input of its next chunk while still pending upstream.
    private var lastSampled: [RequestID: Int32] = [:]

    /// What a step produced.
    public struct Output: Sendable {
        public var sampled: [RequestID: SampledToken] = [:]
        /// For requests that asked for prompt logprobs: (position of the predicted prompt token,
        /// its logprob and the top alternatives) for every prompt token this chunk predicted.
        public var promptLogprobs: [RequestID: [(position: Int, value: SampledToken)]] = [:]
        public var tokens: [RequestID: Int32] { sampled.mapValues(\.token) }
        /// Where the device worker's time went in this step.
        public var timing = StepTiming()
        /// Sequences of a step where each decodes one token (nil when any prompt chunk ran).
        public var decodeWidth: Int?
    }

    public init(model: DecoderModel, blockCount: Int, blockSize: Int) throws {
        self.model = model
        cache = try model.makeKVCache(blockCount: blockCount, blockSize: blockSize)
    }

    public func execute(_ step: PreparedStep) throws -> Output {
        let start = monotonicSeconds()
        var output = try run(step, launched: start)
        output.timing.waitSeconds = monotonicSeconds() - start - output.timing.hostSeconds
        return output
    }

    /// - Parameter launched: set to the time the forward pass was queued (for `StepTiming`).
    private func run(_ step: PreparedStep, launched start: Double) throws -> Output {
        for id in step.released {
            states.removeValue(forKey: id)
            lastSampled.removeValue(forKey: id)
        }
        states.merge(step.newStates) { _, new in new }
        var output = Output()
        output.timing.steps = 1
        guard !step.isEmpty else { return output }
        var tokens = step.tokens
        // A request failed upstream may have no sample; its row computes garbage nobody reads.
        for input in step.pendingInputs { tokens[input.row] = lastSampled[input.id] ?? 0 }
        let batch = ForwardBatch(tokens: tokens, positions: step.positions,
                                 attention: AttentionBatch(sequences: step.spans, slotMapping: step.slots, blockSize: cache.layout.blockSize),
                                 logitRows: step.logitRows.isEmpty ? [0] : step.logitRows)
        let logits = try model.forward(batch, cache: cache)
        output.timing.hostSeconds = monotonicSeconds() - start
        if step.spans.allSatisfy({ $0.queryCount == 1 }) { output.decodeWidth = step.spans.count }
        guard !step.logitRows.isEmpty else { return output }   // prompt chunks only: the cache is filled
        let vocab = model.spec.vocabSize
        // Without logprobs a row needs only its settings, its logit edits (penalties, biases,
        // the min-tokens mask) and a draw: greedy rows the argmax, the others the device's
        // sampler; the logits stay where they are.
        let parameters = step.sampleRows.compactMap { states[$0.id]?.parameters }
        let settingsSuffice = step.promptRows.isEmpty && parameters.allSatisfy { !$0.needsHostLogits }
        let plain = settingsSuffice && parameters.allSatisfy(\.isGreedy)
        let onDevice = settingsSuffice && !plain && model.backend.samplesOnDevice
        if plain || onDevice {
            let edits = step.sampleRows.flatMap { entry in states[entry.id]?.logitEdits(row: Int32(entry.row), vocabulary: vocab) ?? [] }
            model.backend.editLogits(logits, edits)
        }
        if plain {
            let best = model.backend.argmax(logits)
            for entry in step.sampleRows {
                states[entry.id]?.record(best[entry.row])
                output.sampled[entry.id] = SampledToken(token: best[entry.row], logprob: nil, topLogprobs: [])
            }
        } else if onDevice {
            var rows = [SamplingRow](repeating: .greedy, count: logits.shape[0])
            for entry in step.sampleRows {
                guard let row = states[entry.id]?.deviceRow() else { continue }
                rows[entry.row] = row
            }
            let tokens = model.backend.sample(logits, rows: rows)
            for entry in step.sampleRows {
                states[entry.id]?.record(tokens[entry.row])
                output.sampled[entry.id] = SampledToken(token: tokens[entry.row], logprob: nil, topLogprobs: [])
            }
        } else {
            var values = model.backend.download(logits)
            values.withUnsafeMutableBufferPointer { all in
                for entry in step.promptRows {
                    let row = Array(all[(entry.row * vocab)..<((entry.row + 1) * vocab)])
                    let value = Sampler.logprobs(row, token: entry.token, top: states[entry.id]?.parameters.promptLogprobs ?? 0)
                    output.promptLogprobs[entry.id, default: []].append((entry.position, value))
                }
                for entry in step.sampleRows {
                    guard var state = states[entry.id] else { continue }
                    let row = UnsafeMutableBufferPointer(rebasing: all[(entry.row * vocab)..<((entry.row + 1) * vocab)])
                    output.sampled[entry.id] = sampler.sample(row, &state)
                    states[entry.id] = state
                }
            }
        }
        for (id, sample) in output.sampled { lastSampled[id] = sample.token }
        return output
    }
}
