import LMEngine
import Testing

/// The device worker accounts for every step it runs, and for decode-only steps by width.
@Suite struct StepTimingTests {
    @Test func sumsAndDifferencesAddUp() {
        var total = StepTiming()
        var step = StepTiming()
        step.steps = 1
        step.hostSeconds = 0.25
        step.waitSeconds = 1.5
        step.idleSeconds = 0.125
        step.launchedAhead = 1
        step.periodSeconds = 2
        total += step
        let earlier = total
        total += step
        #expect(total.steps == 2 && total.hostSeconds == 0.5 && total.waitSeconds == 3 && total.idleSeconds == 0.25 && total.launchedAhead == 2 && total.periodSeconds == 4)
        #expect(total - earlier == step)
    }

    /// Runs two greedy requests of five tokens (with `edit` applied to their parameters).
    private static func run(_ engine: Engine, _ edit: (inout SamplingParameters) -> Void = { _ in }) async throws -> [[Int32]] {
        var p = SamplingParameters()
        p.temperature = 0
        p.maxTokens = 5
        p.ignoreEOS = true
        edit(&p)
        return try await withThrowingTaskGroup(of: [Int32].self) { group in
            for prompt: [Int32] in [[0, 1, 2, 3], [0, 5, 6, 7]] {
                let stream = try engine.generate(GenerationRequest(prompt: prompt, parameters: p))
                group.addTask { try await stream.reduce(into: []) { $0 += $1.tokens } }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted { $0.lexicographicallyPrecedes($1) }
        }
    }

    @Test func everyStepIsTimedAndDecodeStepsByWidth() async throws {
        let engine = try EngineFixtures.engine("tiny-llama")
        defer { engine.shutdown() }
        _ = try await Self.run(engine)
        let stats = engine.stats
        #expect(stats.stepTiming.steps == stats.steps)
        #expect(stats.stepTiming.hostSeconds > 0 && stats.stepTiming.waitSeconds >= 0 && stats.stepTiming.idleSeconds >= 0)
        #expect(stats.stepTiming.periodSeconds > 0)
        // Each request decodes 4 tokens after its prompt step; both are admitted at once, so
        // at least some of those steps carry both, and no decode step carries more.
        let decodeSteps = stats.decodeStepTiming.values.reduce(0) { $0 + $1.steps }
        #expect(decodeSteps >= 4 && decodeSteps < stats.steps)
        #expect(Set(stats.decodeStepTiming.keys).isSubset(of: [1, 2]))
        #expect((stats.decodeStepTiming[2]?.steps ?? 0) >= 1)
    }

    /// Greedy steps are launched before the step before them is read back, and give the tokens
    /// steps run one at a time give, also with the edits that depend on the pending token: the
    /// penalties (which count it on the device) and the min-tokens mask (which counts it on the host).
    @Test func stepsLaunchAheadOnlyWhenTheirDrawsAllowIt() async throws {
        let overlapped = try EngineFixtures.engine("tiny-llama"), serial = try EngineFixtures.engine("tiny-llama") { $0.asyncScheduling = false }
        defer { overlapped.shutdown(); serial.shutdown() }
        let tokens = try await Self.run(overlapped)
        #expect(try await Self.run(serial) == tokens)
        #expect(overlapped.stats.stepTiming.launchedAhead > 0)
        #expect(serial.stats.stepTiming.launchedAhead == 0)

        // Penalties count the token still on the device (PendingDraw): launched ahead, the same
        // tokens as serial, and not the unpenalized ones. Negative ones pull a request back to
        // its last token, so a pending draw left uncounted changes the output (checked by mutation).
        func penalize(_ p: inout SamplingParameters) { p.repetitionPenalty = 1.3; p.presencePenalty = -2; p.frequencyPenalty = -1 }
        let before = overlapped.stats.stepTiming
        let penalized = try await Self.run(overlapped, penalize)
        #expect((overlapped.stats.stepTiming - before).launchedAhead > 0)
        #expect(try await Self.run(serial, penalize) == penalized)
        #expect(penalized != tokens)

        // The first token of one request's unconstrained output that it had not produced before,
        // at index k, made a stop token banned for k tokens: the ban lifts exactly when that
        // request reaches it (a pending token miscounted would keep it one token longer).
        let unconstrained = tokens[0]
        let k = try #require((1..<unconstrained.count).first { !unconstrained[..<$0].contains(unconstrained[$0]) })
        let stop = unconstrained[k]
        func masked(_ p: inout SamplingParameters) { p.stopTokenIDs = [stop]; p.minTokens = k }
        let beforeMasked = overlapped.stats.stepTiming
        let maskedTokens = try await Self.run(overlapped, masked)
        #expect((overlapped.stats.stepTiming - beforeMasked).launchedAhead > 0)
        #expect(try await Self.run(serial, masked) == maskedTokens)
        #expect(maskedTokens.contains(Array(unconstrained[...k])), "the request stopped where the ban lifted")
        #expect(maskedTokens.allSatisfy { !$0.prefix(k).contains(stop) })
    }
}
