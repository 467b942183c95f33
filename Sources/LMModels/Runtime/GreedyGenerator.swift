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
public struct GreedyGenerator {
    public let session: SequenceSession

    public init(session: SequenceSession) { self.session = session }

    /// Generates up to `maxNewTokens` ids after `prompt`, stopping after any of `stopTokens`.
    public func generate(prompt: [Int32], maxNewTokens: Int, stopTokens: Set<Int32> = [],
                         onToken: (Int32) -> Void = { _ in }) throws -> GenerationResult {
        session.reset()
        defer { session.reset() }
        let backend = session.model.backend
        var tokens: [Int32] = []
        var finish = GenerationResult.Stop.length
        let start = monotonicSeconds()
        var prefillEnd = start
        var next = prompt
        while tokens.count < maxNewTokens {
            let token = backend.argmax(try session.extend(next))[0]
            if tokens.isEmpty { prefillEnd = monotonicSeconds() }
            tokens.append(token)
            onToken(token)
            if stopTokens.contains(token) {
                finish = .stop
                break
            }
            next = [token]
        }
        let end = monotonicSeconds()
        return GenerationResult(tokens: tokens, finishReason: finish,
                                prefillSeconds: prefillEnd - start, decodeSeconds: end - prefillEnd)
    }
}
