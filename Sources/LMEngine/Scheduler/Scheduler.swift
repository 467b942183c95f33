/// The scheduler: a deterministic value-type state machine (no device, no I/O, no clock), as in
/// vLLM v1. Each step fills one token budget: running requests first (decodes and prompt chunks
/// alike; a request wants `tokens - computed` more), then waiting ones in priority and arrival
/// order. When KV blocks run out, the most recently admitted running request is preempted: its
/// blocks are freed (they stay in the prefix cache) and it waits to be recomputed.
public struct Scheduler: Sendable {
    public let config: SchedulerConfig
    public private(set) var kv: KVCacheManager
    public private(set) var requests: [RequestID: SchedulerRequest] = [:]
    /// Waiting requests in the order they will be admitted.
    public private(set) var waiting: [RequestID] = []
    /// Running requests in admission order (the last is preempted first).
    public private(set) var running: [RequestID] = []

    // Counters for metrics and tests.
    public private(set) var computedTokens = 0
    public private(set) var cachedTokens = 0
    public private(set) var preemptions = 0

    public init(config: SchedulerConfig, kv: KVCacheManager) {
        self.config = config
        self.kv = kv
    }

    public enum AdmissionError: Error, Equatable {
        case queueFull(limit: Int)
        case tooLong(tokens: Int, limit: Int)
        case duplicate(RequestID)
    }

    /// Queues a request. Refuses it when the queue is full or it can never fit in the cache.
    public mutating func add(_ request: SchedulerRequest) throws(AdmissionError) {
        guard requests[request.id] == nil else { throw .duplicate(request.id) }
        guard waiting.count < config.maxWaiting else { throw .queueFull(limit: config.maxWaiting) }
        let longest = min(request.promptCount + request.maxTokens, config.maxModelLen)
        let capacity = min(config.maxModelLen, kv.pool.blockCount * kv.blockSize)
        guard request.promptCount < config.maxModelLen, longest <= capacity else {
            throw .tooLong(tokens: request.promptCount + request.maxTokens, limit: capacity)
        }
        // Without chunking a request (recomputed after preemption: prompt and output) must fit
        // one step's budget, or it would block the queue forever.
        guard config.chunkedPrefill || longest <= config.maxNumBatchedTokens else {
            throw .tooLong(tokens: longest, limit: config.maxNumBatchedTokens)
        }
        requests[request.id] = request
        let position = waiting.firstIndex { requests[$0]!.priority > request.priority } ?? waiting.endIndex
        waiting.insert(request.id, at: position)
    }

    public var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }

    // MARK: Planning a step

    /// Plans the next step and books it at once: the chunks' tokens count as computed and each
    /// sampling chunk leaves a token pending, so the next step can be planned before this one's
    /// results are in (asynchronous scheduling, as vLLM's). A pending token is the input of the
    /// request's next chunk; the model runner fills it in from the previous step's sample.
    /// Steps must therefore execute in the order they were planned.
    public mutating func schedule() -> SchedulerOutput {
        var output = SchedulerOutput()
        var budget = config.maxNumBatchedTokens
        var index = 0
        while index < running.count && budget > 0 {
            let id = running[index]
            let (computed, known, exhausted) = Self.progress(&requests[id]!, maxModelLen: config.maxModelLen)
            if exhausted { index += 1; continue }   // its pending token is its last: nothing more to run
            let count = chunkSize(wanted: known - computed, budget: budget)
            if count == 0 { break }
            var preemptedSelf = false
            while !kv.allocate(id, totalTokens: computed + count) {
                let victim = running.removeLast()
                preempt(victim)
                output.preempted.append(victim)
                if victim == id { preemptedSelf = true; break }
            }
            if preemptedSelf { break }
            output.chunks.append(Self.book(&requests[id]!, count: count))
            budget -= count
            index += 1
        }
        // Admit waiting requests, unless this step had to preempt (blocks are short).
        while output.preempted.isEmpty, budget > 0, running.count < config.maxNumSeqs, let id = waiting.first {
            var request = requests[id]!
            // A request preempted with a token still pending waits for it: its prompt must be known.
            guard request.pendingSamples == 0 else { break }
            if request.computed == 0 {
                request.computed = kv.admit(id, tokens: request.tokens, extra: request.extraKey, lookup: request.readsPrefixCache)
                request.cachedPromptTokens = min(request.computed, request.promptCount)
                cachedTokens += request.computed
            }
            let count = chunkSize(wanted: request.tokens.count - request.computed, budget: budget)
            guard count > 0, kv.allocate(id, totalTokens: request.computed + count) else {
                // Wait for blocks (or budget); give back the prefix blocks meanwhile.
                kv.free(id)
                request.computed = 0
                requests[id] = request
                break
            }
            waiting.removeFirst()
            running.append(id)
            output.chunks.append(Self.book(&request, count: count))
            requests[id] = request
            budget -= count
        }
        return output
    }

    /// Computed and known (including pending) tokens of a request, and whether its pending tokens
    /// already reach `max_tokens` or the context; read in place (a copy would retain its arrays).
    private static func progress(_ request: inout SchedulerRequest, maxModelLen: Int) -> (computed: Int, known: Int, exhausted: Bool) {
        let known = request.knownCount
        let exhausted = request.pendingSamples > 0
            && (request.outputCount + request.pendingSamples >= request.maxTokens || known >= maxModelLen)
        return (request.computed, known, exhausted)
    }

    /// Books `count` more tokens of the request as computed by the step being planned.
    private static func book(_ request: inout SchedulerRequest, count: Int) -> ScheduledChunk {
        let known = request.knownCount
        let chunk = ScheduledChunk(id: request.id, start: request.computed, count: count,
                                   samples: request.computed + count == known, admission: request.preemptions)
        request.computed += count
        if chunk.samples { request.pendingSamples += 1 }
        return chunk
    }

    private func chunkSize(wanted: Int, budget: Int) -> Int {
        guard wanted > 0 else { return 0 }
        return config.chunkedPrefill ? min(wanted, budget) : (wanted <= budget ? wanted : 0)
    }

    private mutating func preempt(_ id: RequestID) {
        kv.free(id)
        requests[id]!.computed = 0
        requests[id]!.preemptions += 1
        preemptions += 1
        waiting.insert(id, at: 0)
    }

    // MARK: Applying a step's results

    /// Applies a step's results, in the order the steps were planned: registers the blocks the
    /// step filled with the prefix cache, appends the sampled tokens, and ends the requests that
    /// hit a stop token, `max_tokens` or the context length.
    public mutating func update(_ output: SchedulerOutput, sampled: [RequestID: Int32]) -> [TokenEvent] {
        var events: [TokenEvent] = []
        for chunk in output.chunks {
            guard let index = requests.index(forKey: chunk.id) else { continue }   // ended since
            computedTokens += chunk.count
            // In place: copying a request out would retain (and on append, copy) its token
            // array, which at hundreds of running requests dominates the step.
            guard let event = Self.apply(chunk, to: &requests.values[index], sampled: sampled[chunk.id],
                                         kv: &kv, maxModelLen: config.maxModelLen) else { continue }
            events.append(event)
            if event.finish != nil { remove(chunk.id) }
        }
        return events
    }

    /// Applies one chunk's result to its request; the token event, if it sampled.
    private static func apply(_ chunk: ScheduledChunk, to request: inout SchedulerRequest, sampled: Int32?,
                              kv: inout KVCacheManager, maxModelLen: Int) -> TokenEvent? {
        // Preempted since it was planned: its blocks are gone, but a token it sampled is still
        // right (the step ran before any later step could reuse them).
        let current = chunk.admission == request.preemptions
        var event: TokenEvent?
        if chunk.samples {
            request.pendingSamples -= 1
            if let token = sampled {
                request.tokens.append(token)
                // Stop tokens count once min_tokens were produced before them (the sampler also masks them until then).
                var finish: FinishReason?
                if request.outputCount > request.minTokens && request.stopTokenIDs.contains(token) {
                    finish = .stop
                } else if request.outputCount >= request.maxTokens || request.tokens.count >= maxModelLen {
                    finish = .length
                }
                event = TokenEvent(id: chunk.id, token: token, finish: finish, cachedPromptTokens: request.cachedPromptTokens)
            }
        }
        if current {
            // Blocks full of tokens this step (and those before it) computed join the prefix cache.
            kv.commit(chunk.id, tokens: request.tokens, computed: min(chunk.start + chunk.count, request.tokens.count),
                      extra: request.extraKey)
        }
        return event
    }

    /// Ends a request now (a stop string matched, or the client went away).
    public mutating func finish(_ id: RequestID) {
        remove(id)
    }

    private mutating func remove(_ id: RequestID) {
        guard requests.removeValue(forKey: id) != nil else { return }
        kv.free(id)
        running.removeAll { $0 == id }
        waiting.removeAll { $0 == id }
    }
}
