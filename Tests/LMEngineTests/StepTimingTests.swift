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
        total += step
        let earlier = total
        total += step
        #expect(total.steps == 2 && total.hostSeconds == 0.5 && total.waitSeconds == 3 && total.idleSeconds == 0.25)
        #expect(total - earlier == step)
    }

    @Test func everyStepIsTimedAndDecodeStepsByWidth() async throws {
        let engine = try EngineFixtures.engine("tiny-llama")
        defer { engine.shutdown() }
        var p = SamplingParameters()
        p.temperature = 0
        p.maxTokens = 5
        p.ignoreEOS = true
        try await withThrowingTaskGroup(of: Void.self) { group in
            for prompt: [Int32] in [[0, 1, 2, 3], [0, 5, 6, 7]] {
                let stream = try engine.generate(GenerationRequest(prompt: prompt, parameters: p))
                group.addTask { for try await _ in stream {} }
            }
            try await group.waitForAll()
        }
        let stats = engine.stats
        #expect(stats.stepTiming.steps == stats.steps)
        #expect(stats.stepTiming.hostSeconds > 0 && stats.stepTiming.waitSeconds >= 0 && stats.stepTiming.idleSeconds >= 0)
        // Each request decodes 4 tokens after its prompt step; both are admitted at once, so
        // at least some of those steps carry both, and no decode step carries more.
        let decodeSteps = stats.decodeStepTiming.values.reduce(0) { $0 + $1.steps }
        #expect(decodeSteps >= 4 && decodeSteps < stats.steps)
        #expect(Set(stats.decodeStepTiming.keys).isSubset(of: [1, 2]))
        #expect((stats.decodeStepTiming[2]?.steps ?? 0) >= 1)
    }
}
