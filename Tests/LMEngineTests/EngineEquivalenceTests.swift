import Foundation
import LMCPU
import LMEngine
import LMModels
import LMTensor
import Testing

/// Greedy outputs do not depend on what else runs: every tiny model, 33 requests of random
/// lengths arriving at random steps, chunked prefill under a small token budget, a KV pool
/// small enough to force preemption, the prefix cache cold or warm, and steps applied in turn or
/// pipelined (each planned before the previous one's results are applied, as the engine runs).
@Suite(.serialized) struct EngineEquivalenceTests {
    let backend = try! CPUBackend(threads: 2)

    struct Workload {
        var prompts: [[Int32]]
        var arrivals: [Int]
        var maxTokens: [Int]
    }

    static func workload(seed: UInt64, vocab: Int, count: Int = 33, sharedPrefix: Bool) -> Workload {
        var random = RandomSource(seed: seed)
        func int(_ bound: Int) -> Int { Int(random.nextUnit() * Double(bound)) }
        let prefix: [Int32] = (0..<24).map { _ in Int32(int(vocab)) }
        var w = Workload(prompts: [], arrivals: [], maxTokens: [])
        for _ in 0..<count {
            var prompt: [Int32] = [0]
            if sharedPrefix && int(2) == 0 { prompt += prefix }
            prompt += (0..<(1 + int(40))).map { _ in Int32(int(vocab)) }
            w.prompts.append(prompt)
            w.arrivals.append(int(30))
            w.maxTokens.append(1 + int(16))
        }
        return w
    }

    @Test(arguments: EngineFixtures.models)
    func batchedEqualsAlone(model name: String) throws {
        let loaded = try EngineFixtures.load(name, backend: backend)
        let model = loaded.model
        for (seed, warm, asynchronous) in [(UInt64(1), false, false), (UInt64(2), true, false), (UInt64(3), false, true), (UInt64(4), true, true)] {
            let w = Self.workload(seed: seed, vocab: model.spec.vocabSize, sharedPrefix: warm)
            // Alone, through the plain generator.
            let generator = GreedyGenerator(session: try SequenceSession(model: model, capacity: 128))
            let expected = try w.prompts.indices.map { i in
                try generator.generate(prompt: w.prompts[i], maxNewTokens: w.maxTokens[i]).tokens
            }
            var config = SchedulerConfig()
            config.maxNumBatchedTokens = 24
            config.maxNumSeqs = 12
            config.maxModelLen = 128
            var driver = try StepDriver(model: model, blocks: 36, blockSize: 4, config: config, prefixCaching: true,
                                        asynchronous: asynchronous)
            var parameters = SamplingParameters()
            parameters.temperature = 0
            if warm {
                // Warm the cache with the shared prefix first.
                parameters.maxTokens = 1
                try driver.add(1000, prompt: w.prompts.first { $0.count > 24 } ?? w.prompts[0], parameters: parameters)
                while driver.hasWork { try driver.step() }
            }
            var step = 0
            while driver.outputs.count - (warm ? 1 : 0) < w.prompts.count || driver.hasWork {
                for i in w.prompts.indices where w.arrivals[i] == step {
                    parameters.maxTokens = w.maxTokens[i]
                    try driver.add(i, prompt: w.prompts[i], parameters: parameters)
                }
                if driver.hasWork { try driver.step() }
                step += 1
                #expect(step < 10_000, "\(name): the workload does not finish")
                if step >= 10_000 { return }
            }
            for i in w.prompts.indices {
                #expect(driver.outputs[i] == expected[i], "\(name) seed \(seed) async \(asynchronous) request \(i)")
            }
            #expect(!asynchronous || driver.launchedAhead > 0, "\(name): steps were meant to launch before the previous one finished")
            #expect(driver.scheduler.preemptions > 0, "\(name): the pool was meant to force preemption")
            if warm { #expect(driver.scheduler.cachedTokens > 0, "\(name): the prefix cache was meant to hit") }
            #expect(driver.scheduler.kv.pool.usedCount == 0, "\(name): blocks leaked")
        }
    }
}
