import LMModels
import LMTensor

/// The device side of a step: runs a prepared ragged batch through the model and samples the
/// requests that need a token. Owns the KV cache and the requests' sampling states; steps must
/// run in the order they were planned (a pending input token is the previous step's sample).
///
/// A step is launched (its forward pass and device-side draws queued) and later finished (its
/// tokens read back). Step N+1 may be launched before step N is finished (`canLaunch`): its
/// inputs sampled by N are then copied on the device, so the device goes from one step straight
/// into the next while the host waits for N's tokens.
public final class ModelRunner {
    public let model: DecoderModel
    let cache: KVCache
    let sampler = Sampler()
    private var states: [RequestID: SamplingState] = [:]
    /// Each request's latest sample the host has: the input of its next chunk while still pending upstream.
    private var lastSampled: [RequestID: Int32] = [:]
    /// [R] i32 device tensors the steps' device-drawn tokens alternate between, so a launched
    /// step's tokens stay readable by the next step while that one draws into the other.
    private var sampleBuffers: [Tensor?] = [nil, nil]
    private var nextSampleBuffer = 0
    /// Raw logits kept aside for logprobs while edits change the step's logits.
    private var rawLogits: Tensor?

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

    /// A step queued on the device whose device-drawn tokens the host has not read yet.
    public struct LaunchedStep {
        var output: Output
        /// (request, row of `samples`) for each token drawn on the device.
        var deviceRows: [(id: RequestID, row: Int)] = []
        /// [R] i32: each row's drawn token (a later step's input, fed on the device).
        var samples: Tensor?
        /// The logprob alternatives computed per row (the largest any request asked), when any did.
        var logprobTop: Int?
        /// Of `samples`, followed by the rows' `TokenLogprobs` words when any request asked.
        var download: PendingTokens?
    }

    public init(model: DecoderModel, blockCount: Int, blockSize: Int) throws {
        self.model = model
        cache = try model.makeKVCache(blockCount: blockCount, blockSize: blockSize)
    }

    /// Whether `step` may be launched before `previous` is finished. Its tokens are then drawn
    /// before `previous`'s reach the sampling states, so every request it samples must draw on
    /// the device (no prompt logprobs); the min-tokens mask and the penalties count the pending token.
    public func canLaunch(_ step: PreparedStep, before previous: LaunchedStep) -> Bool {
        guard previous.download != nil else { return true }   // its tokens are on the host already
        guard step.promptRows.isEmpty else { return false }
        let parameters = step.sampleRows.compactMap { states[$0.id]?.parameters ?? step.newStates[$0.id]?.parameters }
        let plain = parameters.allSatisfy(\.isGreedy)
        return parameters.allSatisfy { !$0.needsHostLogits } && (plain || model.backend.samplesOnDevice)
    }

    /// Queues `step` on the device. With `previous` (launched, not yet finished, and
    /// `canLaunch(step, before: previous)`), inputs it sampled are copied on the device.
    public func launch(_ step: PreparedStep, after previous: LaunchedStep?) throws -> LaunchedStep {
        let start = monotonicSeconds()
        var launched = try queue(step, after: previous)
        launched.output.timing.hostSeconds = monotonicSeconds() - start
        return launched
    }

    private func queue(_ step: PreparedStep, after previous: LaunchedStep?) throws -> LaunchedStep {
        for id in step.released {
            states.removeValue(forKey: id)
            lastSampled.removeValue(forKey: id)
        }
        states.merge(step.newStates) { _, new in new }
        var launched = LaunchedStep(output: Output())
        launched.output.timing.steps = 1
        guard !step.isEmpty else { return launched }
        var tokens = step.tokens
        var fed: FedTokens?
        let previousRows = Dictionary(previous?.deviceRows.map { ($0.id, Int32($0.row)) } ?? [], uniquingKeysWith: { first, _ in first })
        for input in step.pendingInputs {
            if let row = previousRows[input.id], let source = previous?.samples {
                fed = fed ?? FedTokens(source: source, indices: [], rows: [])
                fed?.indices.append(row)
                fed?.rows.append(Int32(input.row))
                tokens[input.row] = 0
            } else {
                // A request failed upstream may have no sample; its row computes garbage nobody reads.
                tokens[input.row] = lastSampled[input.id] ?? 0
            }
        }
        var batch = ForwardBatch(tokens: tokens, positions: step.positions,
                                 attention: AttentionBatch(sequences: step.spans, slotMapping: step.slots, blockSize: cache.layout.blockSize),
                                 logitRows: step.logitRows.isEmpty ? [0] : step.logitRows)
        batch.fedTokens = fed
        let logits = try model.forward(batch, cache: cache)
        if step.spans.allSatisfy({ $0.queryCount == 1 }) { launched.output.decodeWidth = step.spans.count }
        guard !step.logitRows.isEmpty else { return launched }   // prompt chunks only: the cache is filled
        let backend = model.backend, vocab = model.spec.vocabSize
        // A row needs only its settings, its logit edits (penalties, biases, the min-tokens
        // mask) and a draw: greedy rows the argmax, the others the device's sampler; logprobs
        // come from the raw logits on the device too. The logits stay where they are and the
        // tokens (with any logprobs) come back later.
        let parameters = step.sampleRows.compactMap { states[$0.id]?.parameters }
        let settingsSuffice = step.promptRows.isEmpty && parameters.allSatisfy { !$0.needsHostLogits }
        let plain = settingsSuffice && parameters.allSatisfy(\.isGreedy)
        if plain || (settingsSuffice && backend.samplesOnDevice) {
            try drawOnDevice(step, logits: logits, greedy: plain, previous: previous, previousRows: previousRows, into: &launched)
            return launched
        }
        // Prompt logprobs: every row of logits goes to the host's sampler now.
        var values = backend.download(logits)
        values.withUnsafeMutableBufferPointer { all in
            for entry in step.promptRows {
                let row = Array(all[(entry.row * vocab)..<((entry.row + 1) * vocab)])
                let value = Sampler.logprobs(row, token: entry.token, top: states[entry.id]?.parameters.promptLogprobs ?? 0)
                launched.output.promptLogprobs[entry.id, default: []].append((entry.position, value))
            }
            for entry in step.sampleRows {
                guard var state = states[entry.id] else { continue }
                let row = UnsafeMutableBufferPointer(rebasing: all[(entry.row * vocab)..<((entry.row + 1) * vocab)])
                let sample = sampler.sample(row, &state)
                states[entry.id] = state
                launched.output.sampled[entry.id] = sample
                lastSampled[entry.id] = sample.token
            }
        }
        return launched
    }

    /// Queues the edits, the draws and any logprobs of a step whose rows all draw on the device
    /// (`greedy`: all by argmax), and the download of the tokens (with the logprob words).
    private func drawOnDevice(_ step: PreparedStep, logits: Tensor, greedy: Bool, previous: LaunchedStep?,
                              previousRows: [RequestID: Int32], into launched: inout LaunchedStep) throws {
        let backend = model.backend, vocab = model.spec.vocabSize
        let parameters = step.sampleRows.compactMap { states[$0.id]?.parameters }
        let rowCount = logits.shape[0]
        // A request sampled by `previous` has that token pending (drawn, not yet recorded):
        // it counts towards min_tokens here and towards the penalties on the device.
        var edits: [LogitEdit] = [], pending: [PendingDraw] = []
        for entry in step.sampleRows.sorted(by: { $0.row < $1.row }) {
            guard let state = states[entry.id] else { continue }
            let source = previousRows[entry.id]
            state.appendLogitEdits(row: Int32(entry.row), vocabulary: vocab, pendingTokens: source == nil ? 0 : 1, to: &edits)
            if let source, let draw = state.pendingDraw(row: Int32(entry.row), sourceIndex: source) { pending.append(draw) }
        }
        // Logprobs are of the raw logits: kept aside (an exact copy, x · 1) when edits change them.
        let top = parameters.compactMap(\.logprobs).max()
        var raw = logits
        if top != nil, !edits.isEmpty || !pending.isEmpty {
            raw = try rawLogitsBuffer(logits.shape)
            backend.scale(logits, by: 1, out: raw)
        }
        if let drawn = previous?.samples, !pending.isEmpty {
            backend.editLogits(logits, edits, pending: pending, drawn: drawn)
        } else {
            backend.editLogits(logits, edits)
        }
        // [R] tokens, then with logprobs [R, words] of them.
        let words = top.map(TokenLogprobs.words(top:)) ?? 0
        let buffer = try sampleBuffer(count: rowCount * (1 + words))
        let samples = buffer.rows(0..<rowCount)
        if greedy {
            backend.argmax(logits, into: samples)
        } else {
            var rows = [SamplingRow](repeating: .greedy, count: rowCount)
            for entry in step.sampleRows {
                guard let row = states[entry.id]?.deviceRow() else { continue }
                rows[entry.row] = row
            }
            backend.sample(logits, rows: rows, into: samples)
        }
        if let top {
            backend.tokenLogprobs(raw, tokens: samples, top: top, into: buffer.rows(rowCount..<(rowCount * (1 + words))).reshaped(rowCount, words))
            launched.logprobTop = top
        }
        launched.samples = samples
        launched.deviceRows = step.sampleRows
        launched.download = backend.startDownload(buffer)
    }

    /// Waits for a launched step's device-drawn tokens and records them.
    public func finish(_ launched: LaunchedStep) -> Output {
        var output = launched.output
        guard let download = launched.download else { return output }
        let start = monotonicSeconds()
        let values = download.wait(), rowCount = launched.samples?.elementCount ?? 0
        for entry in launched.deviceRows {
            let token = values[entry.row]
            output.sampled[entry.id] = SampledToken(token: token, logprob: nil, topLogprobs: [])
            if let top = launched.logprobTop, let asked = states[entry.id]?.parameters.logprobs {
                let words = TokenLogprobs.words(top: top), start = rowCount + entry.row * words
                let logprobs = TokenLogprobs(words: values[start..<(start + words)], top: top)
                output.sampled[entry.id] = SampledToken(token: token, logprob: logprobs.logprob,
                                                        topLogprobs: Array(zip(logprobs.topTokens, logprobs.topLogprobs).prefix(asked)))
            }
            // A request released since (by a step launched after this one) keeps no state.
            guard states[entry.id] != nil else { continue }
            states[entry.id]?.record(token)
            lastSampled[entry.id] = token
        }
        output.timing.waitSeconds = monotonicSeconds() - start
        return output
    }

    /// The next of the two sample buffers, with room for `count` i32 values.
    private func sampleBuffer(count: Int) throws -> Tensor {
        defer { nextSampleBuffer = 1 - nextSampleBuffer }
        if let buffer = sampleBuffers[nextSampleBuffer], buffer.elementCount >= count { return buffer.rows(0..<count) }
        // The step in flight may still read the buffer being replaced (its fed tokens and
        // pending draws come from the other one, but freeing need not wait for the device).
        if sampleBuffers[nextSampleBuffer] != nil { model.backend.waitForQueuedWork() }
        let buffer = try model.backend.allocate(Shape(max(count, 2 * (sampleBuffers[nextSampleBuffer]?.elementCount ?? 0), 64)), dtype: .i32)
        sampleBuffers[nextSampleBuffer] = buffer
        return buffer.rows(0..<count)
    }

    /// Room for a step's raw f32 logits of `shape` [R, V], kept aside for logprobs.
    private func rawLogitsBuffer(_ shape: Shape) throws -> Tensor {
        if let buffer = rawLogits, buffer.elementCount >= shape.elementCount { return buffer.rows(0..<shape.elementCount).reshaped(shape) }
        if rawLogits != nil { model.backend.waitForQueuedWork() }   // the step in flight may still read it
        let buffer = try model.backend.allocate(Shape(shape.elementCount), dtype: .f32)
        rawLogits = buffer
        return buffer.reshaped(shape)
    }
}
