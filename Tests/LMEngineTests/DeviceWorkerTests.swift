import LMCPU
@testable import LMEngine
import LMModels
import Testing

/// The device worker with a step in flight: a step that fails to launch fails alone, after the
/// step before it was finished and delivered, and the worker goes on.
@Suite struct DeviceWorkerTests {
    @Test func aStepThatFailsToLaunchFailsAlone() throws {
        let model = try EngineFixtures.load("tiny-llama", backend: try CPUBackend(threads: 2)).model
        var scheduler = Scheduler(config: SchedulerConfig(), kv: KVCacheManager(blockCount: 64, blockSize: 4))
        let worker = DeviceWorker(runner: try ModelRunner(model: model, blockCount: 64, blockSize: 4))
        defer { worker.shutdown() }
        var greedy = SamplingParameters()
        greedy.temperature = 0
        func step(adding id: RequestID, prompt: [Int32]) throws -> (SchedulerOutput, PreparedStep) {
            try scheduler.add(SchedulerRequest(id: id, prompt: prompt, maxTokens: 4))
            let plan = scheduler.schedule()
            var step = PreparedStep(plan, scheduler: scheduler)
            step.newStates = [id: SamplingState(parameters: greedy, prompt: prompt, stopTokens: [])]
            return (plan, step)
        }
        let (plan, prepared) = try step(adding: 1, prompt: [1, 2, 3])
        let first = worker.launch(prepared)
        // Request 1 decodes greedily (so this step is launched ahead) next to a prompt holding a
        // token the model does not have: the forward pass refuses the batch.
        let broken = worker.launch(try step(adding: 2, prompt: [Int32(model.spec.vocabSize) + 5, 1]).1)
        guard case let .success(output) = worker.wait(first) else { Issue.record("the step before the failure failed"); return }
        #expect(output.sampled[1] != nil)
        _ = scheduler.update(plan, sampled: output.tokens)
        guard case let .failure(error) = worker.wait(broken) else { Issue.record("a batch with an unknown token ran"); return }
        #expect(error as? ForwardError == .tokenOutOfRange(token: Int32(model.spec.vocabSize) + 5, vocabSize: model.spec.vocabSize))
        // As the engine core does, the failed step's requests end; the worker goes on.
        scheduler.finish(1)
        scheduler.finish(2)
        let next = worker.launch(try step(adding: 3, prompt: [4, 5]).1)
        guard case let .success(later) = worker.wait(next) else { Issue.record("the worker stopped after a failed step"); return }
        #expect(later.sampled[3] != nil)
    }
}
