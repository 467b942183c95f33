import LMCPU
import LMEngine
import LMTensor
import Testing

/// A request's logit edits (applied where the logits are) do exactly what the host's bias,
/// min-tokens and penalty processors do, so a request with penalties samples the same tokens
/// on the device path as on the host.
@Suite struct LogitEditTests {
    static func parameters(_ configure: (inout SamplingParameters) -> Void) -> SamplingParameters {
        var p = SamplingParameters()
        p.seed = 5
        configure(&p)
        return p
    }

    static let settings: [SamplingParameters] = [
        parameters { $0.logitBias = [3: 10, 40: -100, 9999: 5] },
        parameters { $0.repetitionPenalty = 1.3 },
        parameters { $0.presencePenalty = 0.5; $0.frequencyPenalty = 0.25 },
        parameters { $0.minTokens = 6; $0.maxTokens = 20 },
        parameters { $0.logitBias = [7: 2, 12: -3]; $0.minTokens = 3; $0.repetitionPenalty = 0.8; $0.presencePenalty = -0.5; $0.frequencyPenalty = 1.5 },
    ]

    @Test(arguments: settings)
    func editsMatchTheHostProcessors(p: SamplingParameters) {
        var generator = RandomSource(seed: 11)
        let vocabulary = 64
        var state = SamplingState(parameters: p, prompt: [1, 2, 3, 3, 50], stopTokens: [7, 63])
        for step in 0..<8 {
            let logits = (0..<vocabulary).map { i in i == 20 ? 0 : Float(generator.nextUnit() * 8 - 4) }
            var expected = logits
            expected.withUnsafeMutableBufferPointer { row in
                // The sampler's chain up to the temperature: bias, min-tokens mask, penalties.
                for processor in Sampler().processors.prefix(3) where processor.applies(to: p) {
                    processor.process(row, state)
                }
            }
            var edited = logits
            let edits = state.logitEdits(row: 0, vocabulary: vocabulary)
            #expect(Set(edits.map(\.token)).count == edits.count, "one edit per token")
            #expect(edits.map(\.token) == edits.map(\.token).sorted(), "sorted by token (the device binary-searches them)")
            for edit in edits { edited[Int(edit.token)] = edit.apply(to: edited[Int(edit.token)]) }
            #expect(edited.elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "step \(step)")
            state.record(Int32([20, 3, 7, 3, 12, 40, 3, 9][step]))
        }
    }

    /// A token drawn on the device but not yet recorded counts towards min_tokens as a recorded one.
    @Test func pendingTokensCountTowardsMinTokens() {
        var state = SamplingState(parameters: Self.parameters { $0.minTokens = 2 }, prompt: [1], stopTokens: [7])
        #expect(state.logitEdits(row: 0, vocabulary: 16, pendingTokens: 1).map(\.token) == [7])
        #expect(state.logitEdits(row: 0, vocabulary: 16, pendingTokens: 2).isEmpty)
        state.record(3)
        #expect(state.logitEdits(row: 0, vocabulary: 16).map(\.token) == [7])
        #expect(state.logitEdits(row: 0, vocabulary: 16, pendingTokens: 1).isEmpty)
    }

    /// A token drawn on the device and not yet recorded, counted by `PendingDraw.resolve`, edits
    /// the logits to the bit as the edits computed after recording it do, whatever it is: a token
    /// produced before, one only in the prompt, a biased one, a banned one, a fresh one.
    @Test(arguments: settings)
    func pendingDrawEditsAsIfRecorded(p: SamplingParameters) {
        var generator = RandomSource(seed: 3)
        let vocabulary = 64
        var state = SamplingState(parameters: p, prompt: [1, 2, 3, 3, 50], stopTokens: [7, 63])
        for token in [Int32(20), 3, 20] { state.record(token) }
        let logits = (0..<vocabulary).map { _ in Float(generator.nextUnit() * 8 - 4) }
        func applied(_ edits: [LogitEdit]) -> [Float] {
            var values = logits
            for edit in edits { values[Int(edit.token)] = edit.apply(to: values[Int(edit.token)]) }
            return values
        }
        for drawn in [Int32(20), 3, 50, 7, 12, 33] {
            let ahead = state.logitEdits(row: 0, vocabulary: vocabulary, pendingTokens: 1)
            let resolved = state.pendingDraw(row: 0, sourceIndex: 1).map { PendingDraw.resolve(ahead, [$0], tokens: [0, drawn]) } ?? ahead
            var recorded = state
            recorded.record(drawn)
            let expected = applied(recorded.logitEdits(row: 0, vocabulary: vocabulary))
            #expect(applied(resolved).elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "drawn \(drawn)")
        }
    }

    /// The reference backend's `editLogits` on a batch: each row gets its own request's edits.
    @Test func backendEditsEachRow() throws {
        let backend = try CPUBackend(threads: 1)
        let logits = try backend.allocate(Shape(2, 8), dtype: .f32)
        backend.upload((0..<16).map { Float($0) - 4 }, to: logits)
        backend.editLogits(logits, [LogitEdit(row: 0, token: 1, bias: 1), LogitEdit(row: 1, token: 1, ban: true),
                                    LogitEdit(row: 1, token: 7, repetition: 2, subtract: 0.5)])
        let values = backend.download(logits)
        #expect(values[1] == -2 && values[9] == -.infinity && values[15] == 11.0 / 2 - 0.5)
        #expect(values.enumerated().allSatisfy { i, v in [1, 9, 15].contains(i) || v == Float(i) - 4 })
    }

    /// Only prompt logprobs need the host sampler: penalties, biases and a sampled token's
    /// logprobs are computed where the logits are.
    @Test func onlyPromptLogprobsNeedHostLogits() {
        let needHost = Self.settings.filter(\.needsHostLogits).count, edit = Self.settings.filter(\.editsLogits).count
        #expect(needHost == 0 && edit == Self.settings.count)
        #expect(!Self.parameters { $0.logprobs = 2 }.needsHostLogits)
        #expect(Self.parameters { $0.promptLogprobs = 0 }.needsHostLogits)
        #expect(!SamplingParameters().editsLogits)
    }

    /// Through the engine: the same greedy request with penalties, a bias and min_tokens gives
    /// the same tokens by the edits-then-argmax path as by the host sampler (which asking for
    /// prompt logprobs forces).
    @Test func engineEditsMatchTheHostSampler() async throws {
        let engine = try EngineFixtures.engine("tiny-llama")
        defer { engine.shutdown() }
        func tokens(logprobs: Int?, edited: Bool = true) async throws -> [Int32] {
            var p = SamplingParameters()
            p.temperature = 0
            p.maxTokens = 12
            p.ignoreEOS = true
            p.promptLogprobs = logprobs
            var out: [Int32] = []
            guard edited else {
                for try await output in try engine.generate(GenerationRequest(prompt: [0, 44, 73, 44, 9], parameters: p)) { out += output.tokens }
                return out
            }
            p.repetitionPenalty = 1.8
            p.frequencyPenalty = 0.7
            p.logitBias = [5: 3]
            p.minTokens = 4
            for try await output in try engine.generate(GenerationRequest(prompt: [0, 44, 73, 44, 9], parameters: p)) { out += output.tokens }
            return out
        }
        let edited = try await tokens(logprobs: nil), host = try await tokens(logprobs: 0)
        #expect(edited.count == 12 && edited == host)
        #expect(try await tokens(logprobs: nil, edited: false) != edited, "the edits change this continuation")
    }
}
