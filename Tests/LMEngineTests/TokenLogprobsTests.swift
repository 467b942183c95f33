import Foundation
import LMCPU
import LMEngine
import LMTensor
import Testing

/// A sampled token's logprobs, computed where the logits are (`TokenLogprobs` is the reference
/// and the host sampler's code): their order, their device layout, and through the engine the
/// same values as the host sampler's, in steps launched ahead.
@Suite struct TokenLogprobsTests {
    @Test func referenceRanksByValueThenId() {
        let logits: [Float] = [1, 3, .nan, 3, -2, 0.5, 3, -.infinity]
        let values = logits.withUnsafeBufferPointer { TokenLogprobs($0, token: 4, top: 4) }
        #expect(values.topTokens == [1, 3, 6, 0], "ties in id order, NaN never")
        let numbers = logits.filter { !$0.isNaN }   // left out of the sum too
        let maximum = numbers.max()!
        let logSum = Float(log(numbers.reduce(0.0) { $0 + exp(Double($1 - maximum)) })) + maximum
        #expect(values.logprob == -2 - logSum)
        #expect(values.topLogprobs == values.topTokens.map { logits[Int($0)] - logSum })
        // Fewer numbers than asked: the device layout pads with (-1, -inf), and reading drops them.
        let short = [Float(0), .nan].withUnsafeBufferPointer { TokenLogprobs($0, token: 0, top: 3) }
        #expect(short.topTokens == [0])
        let words = short.words(top: 3)
        #expect(words.count == TokenLogprobs.words(top: 3) && words[3] == -1 && words[5] == -1)
        #expect(TokenLogprobs(words: words[...], top: 3) == short)
        #expect(TokenLogprobs(words: values.words(top: 4)[...], top: 4) == values)
    }

    /// Greedy requests asking for logprobs, with penalties and a bias: the device path (edits on
    /// the logits, raw logits kept aside, logprobs next to the tokens, launched ahead) gives the
    /// host sampler's tokens and logprobs, to the bit on the CPU backend.
    @Test func deviceLogprobsMatchTheHostSampler() async throws {
        let engine = try EngineFixtures.engine("tiny-llama")
        defer { engine.shutdown() }
        func run(host: Bool, penalties: Bool) async throws -> [SampledToken] {
            var p = SamplingParameters()
            p.temperature = 0
            p.maxTokens = 10
            p.ignoreEOS = true
            p.logprobs = 4
            if host { p.promptLogprobs = 0 }   // prompt logprobs keep a request on the host sampler
            if penalties {
                p.repetitionPenalty = 1.3
                p.frequencyPenalty = 0.5
                p.logitBias = [5: 2]
            }
            var out: [SampledToken] = []
            for try await output in try engine.generate(GenerationRequest(prompt: [0, 44, 73, 44, 9], parameters: p)) { out += output.logprobs }
            return out
        }
        for penalties in [false, true] {
            let before = engine.stats.stepTiming
            let device = try await run(host: false, penalties: penalties)
            #expect((engine.stats.stepTiming - before).launchedAhead > 0, "logprobs no longer keep steps in order")
            let host = try await run(host: true, penalties: penalties)
            #expect(device.count == 10 && device == host, "penalties \(penalties)")
            #expect(device.allSatisfy { $0.topLogprobs.count == 4 && $0.logprob != nil })
        }
    }
}
