import LMModels
import LMTensor
import LMTokenizers
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The engine's threads and their messages. The core thread owns the scheduler: it plans step
/// N+1 and gathers its inputs while the device worker runs step N, then applies step N's
/// results. The device worker owns the model runner, the KV cache and the sampling states; the
/// output thread owns the detokenizers and the streams.
final class EngineCore: @unchecked Sendable {
    struct Submission {
        let id: RequestID
        let prompt: [Int32]
        let parameters: SamplingParameters
        let priority: Int
        let arrival: Double
    }

    enum Command {
        case add(Submission, siblings: [Submission])
        case finish([RequestID], FinishReason)
    }

    struct Event {
        let id: RequestID
        let sampled: SampledToken
        let finish: FinishReason?
        let cachedPromptTokens: Int
        let promptLogprobs: [SampledToken]?
    }

    enum OutputMessage {
        case register(RequestID, OutputState)
        case step([Event])
        case finished(RequestID, FinishReason)
        case fail(RequestID, EngineError)
    }

    private let worker: DeviceWorker
    let tokenizer: Tokenizer?
    let config: EngineConfig
    /// Blocks in the KV cache.
    let kvBlockCount: Int
    let stopTokens: [Int32]
    let metrics: EngineMetrics
    private let commands = MessageQueue<Command>()
    private let outputs = MessageQueue<OutputMessage>()
    private let stopping = Atomic<Bool>(false)
    /// Requests submitted but not yet finished, for the admission limit.
    private let pending = Atomic<Int>(0)
    private var threads: [pthread_t] = []
    private let statsLock = Mutex<EngineStats>(EngineStats())

    // Core thread only.
    private var scheduler: Scheduler
    private var arrivals: [RequestID: Double] = [:]
    private var held: [RequestID: [Submission]] = [:]
    /// Sampling states the device has not received yet, and requests it may forget.
    private var newStates: [RequestID: SamplingState] = [:]
    private var released: [RequestID] = []
    /// Top alternatives wanted by requests asking for prompt logprobs, and those gathered so far by position.
    private var promptLogprobsWanted: [RequestID: Int] = [:]
    private var promptLogprobs: [RequestID: [Int: SampledToken]] = [:]
    private var steps = 0
    private var stepTiming = StepTiming()
    private var decodeStepTiming: [Int: StepTiming] = [:]

    init(model: DecoderModel, tokenizer: Tokenizer?, config: EngineConfig) throws {
        let bytesPerBlock = KVCacheLayout(layerCount: model.spec.layerCount, blockCount: 1, blockSize: config.blockSize,
                                          kvHeads: model.spec.kvHeadCount, headDim: model.spec.headDim,
                                          dtype: model.backend.activationDType).byteCount
        let blocksForOneRequest = (config.scheduler.maxModelLen + config.blockSize - 1) / config.blockSize
        let blockCount = config.blockCount ?? max(blocksForOneRequest, config.kvCacheBytes / bytesPerBlock)
        kvBlockCount = blockCount
        worker = DeviceWorker(runner: try ModelRunner(model: model, blockCount: blockCount, blockSize: config.blockSize), launchAhead: config.launchAhead)
        scheduler = Scheduler(config: config.scheduler,
                              kv: KVCacheManager(blockCount: blockCount, blockSize: config.blockSize, prefixCaching: config.prefixCaching))
        self.tokenizer = tokenizer
        self.config = config
        metrics = EngineMetrics(modelName: config.modelName)
        stopTokens = model.spec.eosTokenIDs
        threads.append(startThread { [unowned self] in self.coreLoop() })
        threads.append(startThread { [unowned self] in self.outputLoop() })
    }

    func submit(_ request: GenerationRequest, ids: [RequestID], group: OutputGroup) throws(EngineError) {
        guard !stopping.load(ordering: .acquiring) else { throw .shuttingDown }
        let limit = config.scheduler.maxWaiting
        guard pending.add(ids.count, ordering: .relaxed).newValue <= limit + config.scheduler.maxNumSeqs else {
            pending.subtract(ids.count, ordering: .relaxed)
            throw .queueFull(limit: limit)
        }
        let arrival = monotonicSeconds()
        var submissions: [Submission] = []
        for (index, id) in ids.enumerated() {
            var parameters = request.parameters
            parameters.n = 1
            if let seed = parameters.seed { parameters.seed = seed &+ UInt64(index) }
            submissions.append(Submission(id: id, prompt: request.prompt, parameters: parameters, priority: request.priority, arrival: arrival))
            let detokenizer = tokenizer.map {
                StreamingDetokenizer(tokenizer: $0, skipSpecialTokens: parameters.skipSpecialTokens, stopStrings: parameters.stopStrings)
            }
            outputs.push(.register(id, OutputState(group: group, index: index, detokenizer: detokenizer,
                                                   promptCount: request.prompt.count, arrival: arrival)))
        }
        // Siblings start once the first completion's prompt is in the prefix cache.
        commands.push(.add(submissions[0], siblings: Array(submissions.dropFirst())))
    }

    func abort(_ ids: [RequestID]) {
        guard !ids.isEmpty else { return }
        commands.push(.finish(ids, .abort))
    }

    var stats: EngineStats { statsLock.withLock { $0 } }

    func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        commands.close()
        for thread in threads { pthread_join(thread, nil) }
        threads = []
        worker.shutdown()
    }

    // MARK: Core thread

    private func coreLoop() {
        var inFlight: (plan: SchedulerOutput, pending: DeviceWorker.Pending)?
        while true {
            guard let batch = commands.popAll(wait: !scheduler.hasWork && inFlight == nil) else { break }
            for command in batch { apply(command) }
            if stopping.load(ordering: .acquiring) { break }
            // Plan and launch step N+1 (its pending inputs are step N's samples) before waiting for step N.
            let plan = scheduler.schedule()
            var launched: (plan: SchedulerOutput, pending: DeviceWorker.Pending)?
            if !plan.isEmpty {
                let now = monotonicSeconds()
                for chunk in plan.chunks {
                    if let arrival = arrivals.removeValue(forKey: chunk.id) { metrics.queueTime.recordSeconds(now - arrival) }
                }
                launched = (plan, worker.launch(prepare(plan)))
            }
            if let previous = inFlight { complete(previous.plan, worker.wait(previous.pending)) }
            inFlight = launched
            if !config.asyncScheduling, let current = inFlight {
                complete(current.plan, worker.wait(current.pending))
                inFlight = nil
            }
        }
        if let previous = inFlight { _ = worker.wait(previous.pending) }
        // Shutting down: every request still here ends with an error.
        for id in Array(scheduler.requests.keys) + held.values.flatMap({ $0.map(\.id) }) { fail(id, .shuttingDown) }
        outputs.close()
    }

    private func prepare(_ plan: SchedulerOutput) -> PreparedStep {
        var step = PreparedStep(plan, scheduler: scheduler, promptLogprobs: promptLogprobsWanted)
        step.newStates = newStates
        step.released = released
        newStates = [:]
        released = []
        return step
    }

    private func complete(_ plan: SchedulerOutput, _ result: DeviceWorker.StepResult) {
        switch result {
        case let .success(output): publish(plan, output)
        case let .failure(error): for chunk in plan.chunks { fail(chunk.id, .failed("\(error)")) }
        }
    }

    /// The request left the core: the device may drop its sampling state.
    private func release(_ id: RequestID) {
        if newStates.removeValue(forKey: id) == nil { released.append(id) }
        promptLogprobsWanted.removeValue(forKey: id)
        promptLogprobs.removeValue(forKey: id)
    }

    private func apply(_ command: Command) {
        switch command {
        case let .add(first, siblings):
            admit(first)
            if !siblings.isEmpty {
                if scheduler.requests[first.id] != nil { held[first.id] = siblings } else { siblings.forEach(admit) }
            }
        case let .finish(ids, reason):
            for id in ids where scheduler.requests[id] != nil || held.values.contains(where: { $0.contains { $0.id == id } }) {
                if let siblings = held.removeValue(forKey: id) { siblings.forEach(admit) }
                held = held.mapValues { $0.filter { $0.id != id } }
                end(id, reason)
            }
        }
    }

    private func admit(_ submission: Submission) {
        let p = submission.parameters
        let stops = (p.ignoreEOS ? [] : stopTokens) + p.stopTokenIDs
        do {
            // Prompt logprobs need every prompt position computed, so such requests skip prefix-cache lookups.
            try scheduler.add(SchedulerRequest(id: submission.id, prompt: submission.prompt, maxTokens: p.maxTokens,
                                               minTokens: p.minTokens, stopTokenIDs: Set(stops), priority: submission.priority,
                                               readsPrefixCache: p.promptLogprobs == nil))
            newStates[submission.id] = SamplingState(parameters: p, prompt: submission.prompt, stopTokens: stops)
            if let wanted = p.promptLogprobs { promptLogprobsWanted[submission.id] = wanted }
            arrivals[submission.id] = submission.arrival
            metrics.promptTokens.increment(by: submission.prompt.count)
        } catch let .queueFull(limit) {
            fail(submission.id, .queueFull(limit: limit))
        } catch let .tooLong(tokens, limit) {
            fail(submission.id, .tooLong(tokens: tokens, limit: limit))
        } catch {
            fail(submission.id, .invalid("duplicate request id"))
        }
    }

    private func publish(_ step: SchedulerOutput, _ result: ModelRunner.Output) {
        for (id, values) in result.promptLogprobs where promptLogprobsWanted[id] != nil {
            for (position, value) in values { promptLogprobs[id, default: [:]][position] = value }
        }
        let events = scheduler.update(step, sampled: result.tokens)
        steps += 1
        stepTiming += result.timing
        if let width = result.decodeWidth { decodeStepTiming[width, default: StepTiming()] += result.timing }
        var out: [Event] = []
        for event in events {
            out.append(Event(id: event.id, sampled: result.sampled[event.id]!, finish: event.finish,
                             cachedPromptTokens: event.cachedPromptTokens, promptLogprobs: takePromptLogprobs(event.id)))
            if let siblings = held.removeValue(forKey: event.id) { siblings.forEach(admit) }
            if let finish = event.finish { finished(event.id, finish) }
        }
        metrics.generationTokens.increment(by: events.count)
        metrics.computedTokens.increment(by: step.tokenCount)
        updateStats()   // before the streams hear of it, so a finished caller sees current stats
        if !out.isEmpty { outputs.push(.step(out)) }
    }

    /// The prompt logprobs, in prompt order, once the first token is out (every prompt position
    /// was computed by then); later recomputations after a preemption gather none again.
    private func takePromptLogprobs(_ id: RequestID) -> [SampledToken]? {
        guard promptLogprobsWanted.removeValue(forKey: id) != nil else { return nil }
        return (promptLogprobs.removeValue(forKey: id) ?? [:]).sorted { $0.key < $1.key }.map(\.value)
    }

    /// A request left the scheduler by itself (stop token, length).
    private func finished(_ id: RequestID, _ reason: FinishReason) {
        release(id)
        arrivals.removeValue(forKey: id)
        pending.subtract(1, ordering: .relaxed)
        metrics.finished(reason)
    }

    /// Ends a request from outside (abort, stop string).
    private func end(_ id: RequestID, _ reason: FinishReason) {
        scheduler.finish(id)
        release(id)
        arrivals.removeValue(forKey: id)
        pending.subtract(1, ordering: .relaxed)
        if reason == .abort { metrics.aborted.increment() } else { metrics.finished(reason) }
        updateStats()
        outputs.push(.finished(id, reason))
    }

    private func fail(_ id: RequestID, _ error: EngineError) {
        scheduler.finish(id)
        release(id)
        arrivals.removeValue(forKey: id)
        pending.subtract(1, ordering: .relaxed)
        outputs.push(.fail(id, error))
    }

    private func updateStats() {
        let kv = scheduler.kv
        var stats = EngineStats()
        stats.running = scheduler.running.count
        stats.waiting = scheduler.waiting.count + held.values.reduce(0) { $0 + $1.count }
        stats.blocksUsed = kv.pool.usedCount
        stats.blockCount = kv.pool.blockCount
        stats.computedTokens = scheduler.computedTokens
        stats.cachedTokens = scheduler.cachedTokens
        stats.preemptions = scheduler.preemptions
        stats.steps = steps
        stats.stepTiming = stepTiming
        stats.decodeStepTiming = decodeStepTiming
        stats.prefixCacheHitRate = kv.prefixCacheHitRate
        let previous = statsLock.withLock { old in
            defer { old = stats }
            return old
        }
        metrics.running.record(stats.running)
        metrics.waiting.record(stats.waiting)
        metrics.kvBlocksUsed.record(stats.blocksUsed)
        metrics.kvUsage.record(Double(stats.blocksUsed) / Double(max(stats.blockCount, 1)))
        metrics.prefixHitRate.record(stats.prefixCacheHitRate)
        if stats.preemptions > previous.preemptions { metrics.preemptions.increment(by: stats.preemptions - previous.preemptions) }
        metrics.prefixHits.increment(by: max(0, kv.pool.cacheHits - previousHits))
        metrics.prefixQueries.increment(by: max(0, kv.pool.cacheQueries - previousQueries))
        previousHits = kv.pool.cacheHits
        previousQueries = kv.pool.cacheQueries
    }
    private var previousHits = 0, previousQueries = 0

    // MARK: Output thread

    private func outputLoop() {
        var states: [RequestID: OutputState] = [:]
        while let batch = outputs.popAll(wait: true) {
            for message in batch {
                switch message {
                case let .register(id, state):
                    states[id] = state
                case let .fail(id, error):
                    states.removeValue(forKey: id)?.group.fail(error)
                case let .finished(id, reason):
                    guard var state = states.removeValue(forKey: id) else { continue }
                    let text = reason == .abort ? "" : state.detokenizer?.finish() ?? ""
                    state.group.yield(RequestOutput(index: state.index, tokens: [], text: text, logprobs: [], finishReason: reason,
                                                    promptTokens: state.promptCount, completionTokens: state.completionTokens,
                                                    cachedPromptTokens: state.cachedPromptTokens, promptLogprobs: nil))
                case let .step(events):
                    for event in events {
                        guard var state = states[event.id] else { continue }   // ended by a stop string already
                        if deliver(event, &state) {
                            states.removeValue(forKey: event.id)
                        } else {
                            states[event.id] = state
                        }
                    }
                }
            }
        }
        for state in states.values { state.group.fail(EngineError.shuttingDown) }
    }

    /// Detokenizes one event into an output; true when the completion ended.
    private func deliver(_ event: Event, _ state: inout OutputState) -> Bool {
        let now = monotonicSeconds()
        if state.firstToken == nil {
            state.firstToken = now
            metrics.timeToFirstToken.recordSeconds(now - state.arrival)
        }
        state.completionTokens += 1
        state.cachedPromptTokens = event.cachedPromptTokens
        var text = state.detokenizer?.append(event.sampled.token) ?? ""
        var finish = event.finish
        if state.detokenizer?.stopped == true {
            finish = .stop
            commands.push(.finish([event.id], .stop))
        } else if finish != nil {
            text += state.detokenizer?.finish() ?? ""
        }
        var output = RequestOutput(index: state.index, tokens: [event.sampled.token], text: text,
                                   logprobs: event.sampled.logprob == nil ? [] : [event.sampled], finishReason: finish,
                                   promptTokens: state.promptCount, completionTokens: state.completionTokens,
                                   cachedPromptTokens: state.cachedPromptTokens, promptLogprobs: nil)
        if !state.sentPromptLogprobs, let values = event.promptLogprobs {
            output.promptLogprobs = values
            state.sentPromptLogprobs = true
        }
        // Latencies are recorded before the last output goes out, so a caller that saw its
        // stream end also sees them.
        if finish != nil { record(state, finishedAt: now) }
        state.group.yield(output)
        return finish != nil
    }

    private func record(_ state: OutputState, finishedAt end: Double) {
        metrics.endToEnd.recordSeconds(end - state.arrival)
        if let first = state.firstToken, state.completionTokens > 1 {
            metrics.timePerOutputToken.recordSeconds((end - first) / Double(state.completionTokens - 1))
        }
    }
}
