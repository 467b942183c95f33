#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMTensor

/// What a request's processors need besides its logits.
public struct SamplingState: Sendable {
    public let parameters: SamplingParameters
    public var random: RandomSource
    /// Tokens the request produced so far, with counts (presence/frequency penalties).
    public private(set) var outputCounts: [Int32: Int] = [:]
    public private(set) var outputCount = 0
    /// Prompt tokens (repetition penalty covers prompt and output, as transformers and vLLM do).
    let promptTokens: Set<Int32>
    /// Tokens that end the request, masked until `minTokens` were produced.
    let stopTokens: [Int32]
    private var standingEdits: StandingLogitEdits

    public init(parameters: SamplingParameters, prompt: [Int32], stopTokens: [Int32]) {
        self.parameters = parameters
        random = RandomSource(seed: parameters.seed ?? RandomSource.randomSeed())
        promptTokens = parameters.repetitionPenalty != 1 ? Set(prompt) : []
        self.stopTokens = stopTokens
        standingEdits = StandingLogitEdits(parameters: parameters, promptTokens: promptTokens)
    }

    /// The device sampler's settings for this request's next token, drawing from its stream as
    /// the host sampler would (greedy requests draw nothing).
    public mutating func deviceRow() -> SamplingRow {
        let p = parameters
        if p.isGreedy { return .greedy }
        return SamplingRow(temperature: p.temperature, topK: p.topK, topP: p.topP, minP: p.minP, uniform: random.nextUnit())
    }

    public mutating func record(_ token: Int32) {
        outputCounts[token, default: 0] += 1
        outputCount += 1
        standingEdits.record(token, count: outputCounts[token]!)
    }

    /// What `LogitBias`, `MinTokensMask` and `Penalties` do to this request's next row of
    /// logits (row `row` of a batch, `vocabulary` wide), as one edit per token they touch.
    /// `pendingTokens`: tokens already drawn (on the device) but not yet recorded; they count
    /// towards `minTokens`; penalties count one of them through `pendingDraw` (each edit's
    /// `subtractIfDrawn`).
    public func logitEdits(row: Int32, vocabulary: Int, pendingTokens: Int = 0) -> [LogitEdit] {
        var edits: [LogitEdit] = []
        appendLogitEdits(row: row, vocabulary: vocabulary, pendingTokens: pendingTokens, to: &edits)
        return edits
    }

    /// `logitEdits` appended to a batch's edits.
    public func appendLogitEdits(row: Int32, vocabulary: Int, pendingTokens: Int = 0, to edits: inout [LogitEdit]) {
        let p = parameters
        guard p.editsLogits else { return }
        let banning = p.minTokens > 0 && outputCount + pendingTokens < p.minTokens
        standingEdits.append(row: row, vocabulary: vocabulary, banning: banning ? stopTokens : [], to: &edits)
    }

    /// The penalties of the token the device drew into `sourceIndex` for this request (row
    /// `row`) and the host has not recorded yet; nil when its edits do not depend on it.
    public func pendingDraw(row: Int32, sourceIndex: Int32) -> PendingDraw? {
        guard parameters.editsDependOnOutputTokens else { return nil }
        return PendingDraw(row: row, sourceIndex: sourceIndex, repetition: parameters.repetitionPenalty, firstSubtract: standingEdits.firstSubtract)
    }
}

/// One step of the sampler chain: rewrites a request's logits in place.
public protocol LogitsProcessor: Sendable {
    /// Whether the processor changes anything for these parameters (skipped otherwise).
    func applies(to parameters: SamplingParameters) -> Bool
    func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState)
}

/// `logit_bias`: added to the listed tokens.
public struct LogitBias: LogitsProcessor {
    public func applies(to p: SamplingParameters) -> Bool { !p.logitBias.isEmpty }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState) {
        for (token, bias) in state.parameters.logitBias where Int(token) < logits.count { logits[Int(token)] += bias }
    }
}

/// `min_tokens`: stop tokens cannot be drawn until that many tokens were produced.
public struct MinTokensMask: LogitsProcessor {
    public func applies(to p: SamplingParameters) -> Bool { p.minTokens > 0 }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState) {
        guard state.outputCount < state.parameters.minTokens else { return }
        for token in state.stopTokens where Int(token) < logits.count { logits[Int(token)] = -.infinity }
    }
}

/// Repetition (multiplicative, prompt and output), presence and frequency (additive, output) penalties.
public struct Penalties: LogitsProcessor {
    public func applies(to p: SamplingParameters) -> Bool {
        p.repetitionPenalty != 1 || p.presencePenalty != 0 || p.frequencyPenalty != 0
    }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState) {
        let p = state.parameters
        if p.repetitionPenalty != 1 {
            for token in state.promptTokens.union(state.outputCounts.keys) where Int(token) < logits.count {
                let value = logits[Int(token)]
                logits[Int(token)] = value > 0 ? value / p.repetitionPenalty : value * p.repetitionPenalty
            }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            for (token, count) in state.outputCounts where Int(token) < logits.count {
                logits[Int(token)] -= p.presencePenalty + p.frequencyPenalty * Float(count)
            }
        }
    }
}

/// Divides logits by the temperature (greedy requests never get here).
public struct Temperature: LogitsProcessor {
    public func applies(to p: SamplingParameters) -> Bool { p.temperature != 1 && p.temperature > 0 }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState) {
        let inverse = 1 / state.parameters.temperature
        for i in logits.indices { logits[i] *= inverse }
    }
}

/// Keeps the k largest logits, and every logit tied with the k-th (as vLLM and the GPU sampler do).
public struct TopK: LogitsProcessor {
    public func applies(to p: SamplingParameters) -> Bool { p.topK > 0 }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState) {
        let k = state.parameters.topK
        guard k < logits.count else { return }
        let threshold = kthLargest(logits, k)
        for i in logits.indices where logits[i] < threshold { logits[i] = -.infinity }
    }
}

/// Keeps the smallest set of most likely tokens whose probability reaches top_p, and every token
/// as likely as the least likely of them (ties at the boundary stay, as on the GPU).
public struct TopP: LogitsProcessor {
    public func applies(to p: SamplingParameters) -> Bool { p.topP < 1 }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState) {
        let probabilities = softmax(logits)
        let sorted = probabilities.sorted(by: >)
        var cumulative = 0.0, boundary = sorted.last ?? 0
        for p in sorted {
            cumulative += p
            if cumulative >= Double(state.parameters.topP) { boundary = p; break }
        }
        for i in logits.indices where probabilities[i] < boundary { logits[i] = -.infinity }
    }
}

/// Drops tokens less likely than min_p times the most likely one.
public struct MinP: LogitsProcessor {
    public func applies(to p: SamplingParameters) -> Bool { p.minP > 0 }
    public func process(_ logits: UnsafeMutableBufferPointer<Float>, _ state: SamplingState) {
        guard let top = logits.max() else { return }
        // p_i >= min_p * p_max  <=>  logit_i >= logit_max + log(min_p)
        let threshold = top + logf(state.parameters.minP)
        for i in logits.indices where logits[i] < threshold { logits[i] = -.infinity }
    }
}

/// Softmax in double precision.
func softmax(_ logits: UnsafeMutableBufferPointer<Float>) -> [Double] {
    let top = Double(logits.max() ?? 0)
    var out = logits.map { $0 == -.infinity ? 0 : exp(Double($0) - top) }
    let total = out.reduce(0, +)
    for i in out.indices { out[i] /= total }
    return out
}

/// The k-th largest value (k >= 1), by a bounded min-heap.
func kthLargest(_ values: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
    var heap: [Float] = []
    heap.reserveCapacity(k)
    for value in values {
        if heap.count < k {
            heap.append(value)
            var child = heap.count - 1
            while child > 0, heap[(child - 1) / 2] > heap[child] { heap.swapAt(child, (child - 1) / 2); child = (child - 1) / 2 }
        } else if value > heap[0] {
            heap[0] = value
            var parent = 0
            while true {
                let l = 2 * parent + 1, r = l + 1
                var smallest = parent
                if l < k && heap[l] < heap[smallest] { smallest = l }
                if r < k && heap[r] < heap[smallest] { smallest = r }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
    }
    return heap[0]
}
