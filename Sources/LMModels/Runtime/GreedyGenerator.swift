import LMTensor

public struct GenerationResult: Sendable {
    /// Why generation stopped.
    public enum Stop: String, Sendable, Codable {
        case stop    // an end-of-sequence token (included in the output)
        case length  // max tokens reached
    }

    public var tokens: [Int32]
    public var finishReason: Stop
    /// Seconds spent on the prompt (including the first token) and on the remaining tokens.
    public var prefillSeconds: Double
    public var decodeSeconds: Double
}

/// Greedy decoding of one sequence: prompt once, then one token per step through the KV cache.
/// Each step is launched before the previous one's token is read back (the token is fed to it on
/// the device), so the device goes from one step straight into the next; when that token ends
/// the generation, the step launched after it is dropped.
public struct GreedyGenerator {
    public let session: SequenceSession

    public init(session: SequenceSession) { self.session = session }

    /// Generates up to `maxNewTokens` ids after `prompt`, stopping after any of `stopTokens`.
    public func generate(prompt: [Int32], maxNewTokens: Int, stopTokens: Set<Int32> = [],
                         onToken: (Int32) -> Void = { _ in }) throws -> GenerationResult {
        session.reset()
        defer { session.reset() }
        let backend = session.model.backend
        // Two one-token buffers: a step's token stays readable while the next step draws its own.
        let samples = [try backend.allocate(Shape(1), dtype: .i32), try backend.allocate(Shape(1), dtype: .i32)]
        func launch(_ input: [Int32], fed: FedTokens? = nil, into slot: Int) throws -> PendingTokens {
            backend.argmax(try session.extend(input, fed: fed), into: samples[slot])
            return backend.startDownload(samples[slot])
        }
        var tokens: [Int32] = []
        var finish = GenerationResult.Stop.length
        let start = monotonicSeconds()
        var prefillEnd = start
        guard maxNewTokens > 0 else { return GenerationResult(tokens: [], finishReason: .length, prefillSeconds: 0, decodeSeconds: 0) }
        var launched = try launch(prompt, into: 0), slot = 0
        while true {
            let wantsMore = tokens.count + 1 < maxNewTokens
            var ahead: PendingTokens?
            if wantsMore && session.length < session.capacity {
                ahead = try launch([0], fed: FedTokens(source: samples[slot], indices: [0], rows: [0]), into: 1 - slot)
            }
            let token = launched.wait()[0]
            if tokens.isEmpty { prefillEnd = monotonicSeconds() }
            tokens.append(token)
            onToken(token)
            if stopTokens.contains(token) {
                finish = .stop
                break
            }
            guard wantsMore else { break }
            launched = try ahead ?? launch([token], into: 1 - slot)
            slot = 1 - slot
        }
        let end = monotonicSeconds()
        return GenerationResult(tokens: tokens, finishReason: finish,
                                prefillSeconds: prefillEnd - start, decodeSeconds: end - prefillEnd)
    }
}
