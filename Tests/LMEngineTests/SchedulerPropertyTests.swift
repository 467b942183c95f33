import LMEngine
import Testing

/// Random workloads through the scheduler with a fake model (random tokens): every request
/// finishes, no block leaks, no block is written while shared, reference counts return to zero;
/// with results applied at once or up to two steps late (the engine's pipeline).
@Suite struct SchedulerPropertyTests {
    @Test(arguments: (1...48).map(UInt64.init))
    func randomWorkloadsKeepTheInvariants(seed: UInt64) throws {
        var random = RandomSource(seed: seed)
        func int(_ bound: Int) -> Int { Int(random.nextUnit() * Double(bound)) }
        var config = SchedulerConfig()
        config.maxNumBatchedTokens = 8 + int(64)
        config.maxNumSeqs = 1 + int(16)
        config.maxModelLen = 256
        config.chunkedPrefill = int(4) != 0
        let blockSize = [1, 2, 4, 16][int(4)]
        let blocks = max(256 / blockSize + 1, 8 + int(200))
        var scheduler = Scheduler(config: config, kv: KVCacheManager(blockCount: blocks, blockSize: blockSize, prefixCaching: int(3) != 0))
        let shared: [Int32] = (0..<40).map { _ in Int32(int(50)) }
        let depth = 1 + int(2)   // steps planned before the oldest one's results are applied
        var inFlight: [SchedulerOutput] = []
        var added = 0, finished = Set<Int>(), step = 0
        let total = 60
        while finished.count < total {
            // Arrivals, some sharing a prefix, some aborted later.
            while added < total && int(3) == 0 {
                var prompt: [Int32] = int(2) == 0 ? Array(shared.prefix(1 + int(40))) : []
                prompt += (0..<(1 + int(60))).map { _ in Int32(int(50)) }
                do {
                    try scheduler.add(SchedulerRequest(id: added, prompt: prompt, maxTokens: 1 + int(40), stopTokenIDs: [7]))
                } catch .tooLong {
                    #expect(!config.chunkedPrefill, "only an unchunked budget refuses these")
                    finished.insert(added)   // refused at the door instead of blocking the queue
                }
                added += 1
            }
            if int(20) == 0, !scheduler.running.isEmpty {
                let victim = scheduler.running[int(scheduler.running.count)]
                scheduler.finish(victim)
                finished.insert(victim)
            }
            let plan = scheduler.schedule()
            // No block written while shared: every slot a chunk writes is in a block only it holds.
            for chunk in plan.chunks {
                // At most one input token may still be pending: the runner fills in one sample.
                #expect(chunk.start + chunk.count <= scheduler.requests[chunk.id]!.tokens.count + 1, "seed \(seed): chunk past its pending token")
                let table = scheduler.kv.blockTable(chunk.id)
                for position in chunk.start..<(chunk.start + chunk.count) {
                    let block = table[position / blockSize]
                    #expect(scheduler.kv.pool.referenceCount(block) == 1, "seed \(seed): block \(block) written while shared")
                }
            }
            inFlight.append(plan)
            while inFlight.count >= depth || (!inFlight.isEmpty && !scheduler.hasWork) {
                let done = inFlight.removeFirst()
                var sampled: [RequestID: Int32] = [:]
                for chunk in done.chunks where chunk.samples { sampled[chunk.id] = Int32(int(50)) }
                for event in scheduler.update(done, sampled: sampled) where event.finish != nil { finished.insert(event.id) }
            }
            if added == total && !scheduler.hasWork && inFlight.isEmpty { break }
            step += 1
            #expect(step < 100_000, "seed \(seed): no progress")
            if step >= 100_000 { return }
        }
        #expect(finished.count == total && scheduler.requests.isEmpty, "seed \(seed): every request finishes")
        #expect(scheduler.kv.pool.usedCount == 0 && scheduler.kv.pool.freeCount == blocks, "seed \(seed): the pool is back to full")
        for block in 0..<Int32(blocks) { #expect(scheduler.kv.pool.referenceCount(block) == 0) }
    }

    @Test func queueLimitAndOversizedRequestsAreRefused() throws {
        var config = SchedulerConfig()
        config.maxWaiting = 2
        config.maxModelLen = 64
        var scheduler = Scheduler(config: config, kv: KVCacheManager(blockCount: 4, blockSize: 4))
        #expect(throws: Scheduler.AdmissionError.tooLong(tokens: 30, limit: 16)) {
            try scheduler.add(SchedulerRequest(id: 0, prompt: Array(repeating: 1, count: 20), maxTokens: 10))
        }
        try scheduler.add(SchedulerRequest(id: 1, prompt: [1], maxTokens: 2))
        try scheduler.add(SchedulerRequest(id: 2, prompt: [1], maxTokens: 2))
        #expect(throws: Scheduler.AdmissionError.queueFull(limit: 2)) { try scheduler.add(SchedulerRequest(id: 3, prompt: [1], maxTokens: 2)) }
    }

    /// Priorities order the waiting queue; equal priorities keep arrival order.
    @Test func prioritiesOrderAdmission() throws {
        var config = SchedulerConfig()
        config.maxNumSeqs = 1
        var scheduler = Scheduler(config: config, kv: KVCacheManager(blockCount: 64, blockSize: 4))
        try scheduler.add(SchedulerRequest(id: 1, prompt: [1], maxTokens: 1, priority: 5))
        try scheduler.add(SchedulerRequest(id: 2, prompt: [1], maxTokens: 1, priority: 0))
        try scheduler.add(SchedulerRequest(id: 3, prompt: [1], maxTokens: 1, priority: 0))
        #expect(scheduler.waiting == [2, 3, 1])
    }
}
