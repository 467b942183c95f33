import Foundation
import LMCPU
import LMEngine
import LMModels
import LMTensor

/// Shared fixtures: the tiny models of ../shared/fixtures and a step-by-step driver of the
/// scheduler and model runner (the engine core's logic without its threads), so tests can
/// choose at which step each request arrives.
enum EngineFixtures {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["PEREGRINE_FIXTURES"] { return path }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    static let models = ["tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-mistral", "tiny-mixtral", "tiny-llama3-rope"]

    static func load(_ name: String, backend: CPUBackend) throws -> LoadedModel {
        try ModelLoader.load(path: root + "/models/" + name, backend: backend)
    }

    /// An engine over fixture `name` on two CPU threads with a small cache (128 blocks of 4).
    static func engine(_ name: String, modelName: String? = nil, configure: (inout EngineConfig) -> Void = { _ in }) throws -> Engine {
        let loaded = try load(name, backend: try CPUBackend(threads: 2))
        var config = EngineConfig()
        config.blockSize = 4
        config.blockCount = 128
        if let modelName { config.modelName = modelName }
        configure(&config)
        return try Engine(model: loaded.model, tokenizer: nil, config: config)
    }
}

/// Drives a Scheduler and a ModelRunner step by step, as the engine core does but without its
/// threads. With `asynchronous`, each step is planned before the previous one's results are
/// applied, and launched before the previous one is finished where the runner allows it (the
/// engine's pipeline); the runner still runs steps in planning order.
struct StepDriver {
    var scheduler: Scheduler
    private var pipeline: StepPipeline
    let asynchronous: Bool
    var newStates: [RequestID: SamplingState] = [:]
    var outputs: [RequestID: [Int32]] = [:]
    var finished: [RequestID: FinishReason] = [:]
    var steps = 0
    /// Steps launched before the step before them was finished.
    var launchedAhead: Int { pipeline.launchedAhead }

    init(model: DecoderModel, blocks: Int, blockSize: Int, config: SchedulerConfig, prefixCaching: Bool = true,
         asynchronous: Bool = false) throws {
        scheduler = Scheduler(config: config, kv: KVCacheManager(blockCount: blocks, blockSize: blockSize, prefixCaching: prefixCaching))
        pipeline = StepPipeline(runner: try ModelRunner(model: model, blockCount: blocks, blockSize: blockSize))
        self.asynchronous = asynchronous
    }

    mutating func add(_ id: RequestID, prompt: [Int32], parameters: SamplingParameters) throws {
        try scheduler.add(SchedulerRequest(id: id, prompt: prompt, maxTokens: parameters.maxTokens, minTokens: parameters.minTokens,
                                           stopTokenIDs: Set(parameters.stopTokenIDs)))
        newStates[id] = SamplingState(parameters: parameters, prompt: prompt, stopTokens: parameters.stopTokenIDs)
        outputs[id] = []
    }

    var hasWork: Bool { scheduler.hasWork || pipeline.hasStepInFlight }

    /// One step; returns the plan it ran.
    @discardableResult
    mutating func step() throws -> SchedulerOutput {
        let plan = scheduler.schedule()
        var prepared = PreparedStep(plan, scheduler: scheduler)
        prepared.newStates = newStates
        newStates = [:]
        var done = try pipeline.run(plan, prepared)
        if !asynchronous { done += pipeline.drain() }
        for (plan, output) in done { apply(plan, output) }
        steps += 1
        return plan
    }

    private mutating func apply(_ plan: SchedulerOutput, _ result: ModelRunner.Output) {
        for event in scheduler.update(plan, sampled: result.tokens) {
            outputs[event.id, default: []].append(event.token)
            if let finish = event.finish { finished[event.id] = finish }
        }
    }
}
