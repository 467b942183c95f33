import Foundation
import LMCPU
import LMEngine
import LMModels
import LMTensor
import LMTokenizers
import Testing

/// The asynchronous engine as callers use it: many streams at once, n > 1, seeds, stop
/// strings, logprobs, prefix sharing and cancellation.
@Suite(.serialized) struct EngineAPITests {
    let backend = try! CPUBackend(threads: 2)

    func engine(_ name: String = "tiny-llama", configure: (inout EngineConfig) -> Void = { _ in }) throws -> (Engine, LoadedModel) {
        let loaded = try EngineFixtures.load(name, backend: backend)
        let tokenizer = try Tokenizer.load(path: EngineFixtures.root + "/models/" + name)
        var config = EngineConfig()
        config.blockSize = 4
        config.blockCount = 256
        configure(&config)
        return (try Engine(model: loaded.model, tokenizer: tokenizer, config: config), loaded)
    }

    static func collect(_ stream: AsyncThrowingStream<RequestOutput, Error>) async throws -> [Int: [RequestOutput]] {
        var outputs: [Int: [RequestOutput]] = [:]
        for try await output in stream { outputs[output.index, default: []].append(output) }
        return outputs
    }

    static func greedy(_ maxTokens: Int) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        p.maxTokens = maxTokens
        p.ignoreEOS = true
        return p
    }

    @Test func concurrentStreamsMatchTheGoldens() async throws {
        let (engine, _) = try engine()
        defer { engine.shutdown() }
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: EngineFixtures.root + "/models/tiny-llama/golden.json"))) as! [String: Any]
        let cases = (golden["cases"] as! [String: [String: Any]]).values.map {
            (($0["input_ids"] as! [Int]).map(Int32.init), ($0["greedy"] as! [Int]).map(Int32.init))
        }
        try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
            for round in 0..<4 {
                for (index, c) in cases.enumerated() {
                    let stream = try engine.generate(GenerationRequest(prompt: c.0, parameters: Self.greedy(24)))
                    group.addTask {
                        let outputs = try await Self.collect(stream)
                        return (index, outputs[0]!.flatMap(\.tokens))
                    }
                    _ = round
                }
            }
            for try await (index, tokens) in group { #expect(tokens == cases[index].1) }
        }
        #expect(engine.stats.blocksUsed == 0)
    }

    @Test func multipleCompletionsShareThePromptAndSeedsReproduce() async throws {
        let (engine, _) = try engine()
        defer { engine.shutdown() }
        var p = SamplingParameters()
        p.temperature = 1.0
        p.topK = 50
        p.seed = 1234
        p.maxTokens = 12
        p.ignoreEOS = true
        p.n = 3
        let prompt: [Int32] = (0..<40).map { Int32(($0 * 37) % 500) }
        let first = try await Self.collect(try engine.generate(GenerationRequest(prompt: prompt, parameters: p)))
        #expect(first.count == 3 && first.values.allSatisfy { $0.last?.finishReason == .length && $0.flatMap(\.tokens).count == 12 })
        // The siblings reuse the first completion's prompt blocks.
        #expect(first[1]!.last!.cachedPromptTokens >= 36 && first[2]!.last!.cachedPromptTokens >= 36)
        // Same seed: same tokens, even with other requests running alongside.
        let noise = try engine.generate(GenerationRequest(prompt: [0, 5, 9], parameters: Self.greedy(20)))
        let second = try await Self.collect(try engine.generate(GenerationRequest(prompt: prompt, parameters: p)))
        _ = try await Self.collect(noise)
        for index in 0..<3 { #expect(first[index]!.flatMap(\.tokens) == second[index]!.flatMap(\.tokens)) }
        #expect(first[0]!.flatMap(\.tokens) != first[1]!.flatMap(\.tokens), "different completions use different seeds")
    }

    @Test func sharedPrefixComputesOnlyTheNewTokens() async throws {
        let (engine, _) = try engine()
        defer { engine.shutdown() }
        let prefix: [Int32] = [0] + (1..<64).map { Int32(($0 * 13) % 500) }
        let a = try await Self.collect(try engine.generate(GenerationRequest(prompt: prefix + [5, 6, 7], parameters: Self.greedy(4))))
        let before = engine.stats.computedTokens
        let b = try await Self.collect(try engine.generate(GenerationRequest(prompt: prefix + [8, 9], parameters: Self.greedy(4))))
        let computed = engine.stats.computedTokens - before
        // 64 shared tokens are cached; the second request computes its 2 new prompt tokens and 3 decode steps.
        #expect(computed == 2 + 3, "computed \(computed)")
        #expect(b[0]!.last!.cachedPromptTokens == 64)
        // And its output equals a cold run.
        let (cold, _) = try self.engine { $0.prefixCaching = false }
        defer { cold.shutdown() }
        let reference = try await Self.collect(try cold.generate(GenerationRequest(prompt: prefix + [8, 9], parameters: Self.greedy(4))))
        #expect(b[0]!.flatMap(\.tokens) == reference[0]!.flatMap(\.tokens))
        _ = a
    }

    @Test func stopStringsAndLogprobs() async throws {
        let (engine, loaded) = try engine()
        defer { engine.shutdown() }
        let tokenizer = try Tokenizer.load(path: EngineFixtures.root + "/models/tiny-llama")
        let prompt: [Int32] = [0, 44, 73, 369, 83, 16, 287]
        let full = try await Self.collect(try engine.generate(GenerationRequest(prompt: prompt, parameters: Self.greedy(24))))
        let text = tokenizer.decode(full[0]!.flatMap(\.tokens))
        #expect(full[0]!.map(\.text).joined() == text)
        // Stop at a string from the middle of that text: it is excluded, and the reason is stop.
        let middle = text.index(text.startIndex, offsetBy: text.count / 2)
        let stop = String(text[middle...].prefix(3))
        var p = Self.greedy(24)
        p.stopStrings = [stop]
        p.logprobs = 3
        let stopped = try await Self.collect(try engine.generate(GenerationRequest(prompt: prompt, parameters: p)))
        let stoppedText = stopped[0]!.map(\.text).joined()
        #expect(stoppedText == String(text[..<text.range(of: stop)!.lowerBound]))
        #expect(stopped[0]!.last!.finishReason == .stop)
        // Logprobs: the greedy token is the most likely alternative; values are log-probabilities.
        for output in stopped[0]! {
            for entry in output.logprobs {
                #expect(entry.topLogprobs.count == 3 && entry.topLogprobs[0].token == entry.token)
                #expect(entry.logprob! <= 0 && entry.topLogprobs[0].logprob >= entry.topLogprobs[1].logprob)
            }
        }
        _ = loaded
    }

    /// Prompt logprobs: one entry per prompt token after the first, equal to a direct forward
    /// pass over the whole prompt, and complete even when the prompt's blocks are cached.
    @Test func promptLogprobsMatchAFullForwardPass() async throws {
        let (engine, loaded) = try engine()
        defer { engine.shutdown() }
        let prompt: [Int32] = [0] + (1..<30).map { Int32(($0 * 29) % 500) }
        let session = try SequenceSession(model: loaded.model, capacity: 64)
        let logits = loaded.model.backend.download(try session.extend(prompt, logits: .all))
        let vocab = loaded.model.spec.vocabSize
        var p = Self.greedy(2)
        p.promptLogprobs = 2
        for round in 0..<2 {   // the second round finds the prompt in the prefix cache
            let outputs = try await Self.collect(try engine.generate(GenerationRequest(prompt: prompt, parameters: p)))
            let values = try #require(outputs[0]!.compactMap(\.promptLogprobs).first)
            #expect(values.count == prompt.count - 1, "round \(round)")
            #expect(outputs[0]!.compactMap(\.promptLogprobs).count == 1, "sent once")
            for (i, entry) in values.enumerated() {
                let row = Array(logits[(i * vocab)..<((i + 1) * vocab)])
                let maximum = row.max()!
                let logSum = log(row.reduce(0.0) { $0 + exp(Double($1 - maximum)) }) + Double(maximum)
                #expect(entry.token == prompt[i + 1])
                #expect(abs(Double(entry.logprob!) - (Double(row[Int(prompt[i + 1])]) - logSum)) < 1e-3, "round \(round) position \(i + 1)")
                #expect(entry.topLogprobs.count == 2 && entry.topLogprobs[0].logprob >= entry.logprob!)
            }
        }
    }

    @Test func cancellingAStreamFreesItsBlocks() async throws {
        let (engine, _) = try engine()
        defer { engine.shutdown() }
        var long = Self.greedy(200)
        long.maxTokens = 200
        let task = Task {
            var count = 0
            for try await output in try engine.generate(GenerationRequest(prompt: [0, 1, 2, 3], parameters: long)) {
                count += output.tokens.count
                if count >= 5 { break }   // dropping the stream cancels the request
            }
        }
        _ = try await task.value
        var waited = 0
        while engine.stats.blocksUsed != 0 && waited < 200 {
            try await Task.sleep(nanoseconds: 5_000_000)
            waited += 1
        }
        #expect(engine.stats.blocksUsed == 0 && engine.stats.running == 0)
        // The engine keeps serving.
        let after = try await Self.collect(try engine.generate(GenerationRequest(prompt: [0, 5], parameters: Self.greedy(3))))
        #expect(after[0]!.flatMap(\.tokens).count == 3)
    }

    @Test func invalidRequestsAreRefusedAtOnce() throws {
        let (engine, _) = try engine()
        defer { engine.shutdown() }
        #expect(throws: EngineError.invalid("the prompt is empty")) { try engine.generate(GenerationRequest(prompt: [])) }
        #expect(throws: EngineError.self) { try engine.generate(GenerationRequest(prompt: [99999])) }
        var p = SamplingParameters()
        p.topP = 0
        #expect(throws: EngineError.invalid("top_p must be in (0, 1]")) { try engine.generate(GenerationRequest(prompt: [1], parameters: p)) }
    }
}
