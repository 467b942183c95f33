import LMEngine
import LMModels

/// The engine's step pipeline on one backend without its threads: the same requests run once
/// with every step read back before the next is launched and once with steps launched ahead
/// (their pending tokens fed, and counted by penalties, on the device). Both run the same plans
/// on the same batches with the same seeded draws, so their tokens and logprobs must be identical.
enum OverlapAgreement {
    /// Greedy requests.
    static var greedy: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        return parameters
    }

    /// Greedy requests whose negative penalties pull them back to tokens they drew (so a pending
    /// draw left uncounted changes them).
    static var penalizedGreedy: SamplingParameters {
        var parameters = greedy
        parameters.repetitionPenalty = 1.3
        parameters.presencePenalty = -2
        parameters.frequencyPenalty = -1
        return parameters
    }

    /// Seeded draws (the device's sampler) with penalties.
    static var penalizedDraws: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = 0.8
        parameters.topP = 0.95
        parameters.seed = 7
        parameters.repetitionPenalty = 1.1
        parameters.presencePenalty = 0.5
        parameters.frequencyPenalty = 0.5
        return parameters
    }

    /// Seeded draws with penalties, each with its logprob and the top 5 (computed on the device,
    /// of the raw logits, for a token still pending when launched ahead).
    static var penalizedDrawsWithLogprobs: SamplingParameters {
        var parameters = penalizedDraws
        parameters.logprobs = 5
        return parameters
    }

    /// Each request's generated tokens (with their logprobs when asked for), and the steps
    /// launched before the previous one was read back.
    static func run(model: DecoderModel, prompts: [[Int32]], maxTokens: Int, launchAhead: Bool,
                    parameters requested: SamplingParameters = greedy) throws -> (draws: [[SampledToken]], launchedAhead: Int) {
        var config = SchedulerConfig()
        config.maxNumSeqs = prompts.count
        config.maxNumBatchedTokens = 256
        config.maxModelLen = (prompts.map(\.count).max() ?? 0) + maxTokens + 1
        let blockSize = 16, blocks = prompts.count * (config.maxModelLen / blockSize + 2)
        var scheduler = Scheduler(config: config, kv: KVCacheManager(blockCount: blocks, blockSize: blockSize, prefixCaching: false))
        var pipeline = StepPipeline(runner: try ModelRunner(model: model, blockCount: blocks, blockSize: blockSize), launchAhead: launchAhead)
        var parameters = requested
        parameters.maxTokens = maxTokens
        parameters.ignoreEOS = true
        var newStates: [RequestID: SamplingState] = [:]
        for (id, prompt) in prompts.enumerated() {
            try scheduler.add(SchedulerRequest(id: id, prompt: prompt, maxTokens: maxTokens))
            newStates[id] = SamplingState(parameters: parameters, prompt: prompt, stopTokens: [])
        }
        var draws = [[SampledToken]](repeating: [], count: prompts.count)
        func apply(_ finished: [(plan: SchedulerOutput, output: ModelRunner.Output)]) {
            for (plan, output) in finished {
                // (a token the scheduler took without its draw shows as a short list)
                for event in scheduler.update(plan, sampled: output.tokens) { if let draw = output.sampled[event.id] { draws[event.id].append(draw) } }
            }
        }
        // As the engine's core does: plan step N+1 before step N's tokens are applied.
        while scheduler.hasWork || pipeline.hasStepInFlight {
            let plan = scheduler.schedule()
            var step = PreparedStep(plan, scheduler: scheduler)
            step.newStates = newStates
            newStates = [:]
            apply(try pipeline.run(plan, step))
        }
        return (draws, pipeline.launchedAhead)
    }
}
