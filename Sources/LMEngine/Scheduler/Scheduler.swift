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

    public mutating func schedule() -> SchedulerOutput {
        var output = SchedulerOutput()
        var budget = config.maxNumBatchedTokens
        var index = 0
        while index < running.count && budget > 0 {
            let id = running[index]
            let request = requests[id]!
            let count = chunkSize(wanted: request.tokens.count - request.computed, budget: budget)
            if count == 0 { break }
            var preemptedSelf = false
            while !kv.allocate(id, totalTokens: request.computed + count) {
                let victim = running.removeLast()
                preempt(victim)
                output.preempted.append(victim)
                if victim == id { preemptedSelf = true; break }
            }
            if preemptedSelf { break }
            output.chunks.append(ScheduledChunk(id: id, start: request.computed, count: count,
                                                samples: request.computed + count == request.tokens.count))
            budget -= count
            index += 1
        }
        // Admit waiting requests, unless this step had to preempt (blocks are short).
        while output.preempted.isEmpty, budget > 0, running.count < config.maxNumSeqs, let id = waiting.first {
            var request = requests[id]!
            if request.computed == 0 {
                request.computed = kv.admit(id, tokens: request.tokens, extra: request.extraKey)
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
            requests[id] = request
            waiting.removeFirst()
            running.append(id)
            output.chunks.append(ScheduledChunk(id: id, start: request.computed, count: count,
                                                samples: request.computed + count == request.tokens.count))
            budget -= count
        }
        return output
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

    /// Advances the scheduled requests by their chunks, appends the sampled tokens, and ends the
    /// requests that hit a stop token, `max_tokens` or the context length.
    public mutating func update(_ output: SchedulerOutput, sampled: [RequestID: Int32]) -> [TokenEvent] {
        var events: [TokenEvent] = []
        for chunk in output.chunks {
            guard var request = requests[chunk.id], request.computed == chunk.start else { continue }   // aborted or preempted since
            request.computed += chunk.count
            computedTokens += chunk.count
            kv.commit(chunk.id, tokens: request.tokens, computed: request.computed, extra: request.extraKey)
            guard chunk.samples, let token = sampled[chunk.id] else {
                requests[chunk.id] = request
                continue
            }
            request.tokens.append(token)
            requests[chunk.id] = request
            // Stop tokens count once min_tokens were produced before them (the sampler also masks them until then).
            var finish: FinishReason?
            if request.outputCount > request.minTokens && request.stopTokenIDs.contains(token) {
                finish = .stop
            } else if request.outputCount >= request.maxTokens || request.tokens.count >= config.maxModelLen {
                finish = .length
            }
            events.append(TokenEvent(id: chunk.id, token: token, finish: finish))
            if finish != nil { remove(chunk.id) }
        }
        return events
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
