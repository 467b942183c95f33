#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A load test against an OpenAI-compatible server, as vLLM's `bench serve` runs one: requests
/// arrive as a Poisson process at `requestRate` (or all at once for `inf`), at most
/// `maxConcurrency` are in flight, each streams, and every chunk is timed.
public struct ServeBenchmark: Sendable {
    public struct Setup: Sendable {
        public var client: ServeClient
        public var requests: [BenchRequest]
        public var datasetName: String
        public var label: String
        /// Requests per second; `.infinity` sends them all at once.
        public var requestRate: Double
        public var maxConcurrency: Int?
        public var seed: UInt64

        public init(client: ServeClient, requests: [BenchRequest], datasetName: String, label: String, requestRate: Double, maxConcurrency: Int?, seed: UInt64) {
            self.client = client
            self.requests = requests
            self.datasetName = datasetName
            self.label = label
            self.requestRate = requestRate
            self.maxConcurrency = maxConcurrency
            self.seed = seed
        }
    }

    public var setup: Setup

    public init(_ setup: Setup) { self.setup = setup }

    /// Arrival offsets in seconds: cumulative exponential gaps with mean `1 / rate`.
    public static func arrivals(count: Int, rate: Double, seed: UInt64) -> [Double] {
        guard rate.isFinite else { return Array(repeating: 0, count: count) }
        var generator = SeededGenerator(seed: seed ^ 0xA5A5_5A5A)
        var time = 0.0
        return (0..<count).map { index in
            if index > 0 { time += -log(generator.nextOpenUnit()) / rate }
            return time
        }
    }

    /// Runs every request; `progress(done, total)` is called as each finishes.
    public func run(progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async -> (records: [RequestRecord], duration: Double) {
        let requests = setup.requests
        let arrivals = Self.arrivals(count: requests.count, rate: setup.requestRate, seed: setup.seed)
        let workers = min(setup.maxConcurrency ?? requests.count, requests.count)
        // Workers take requests in arrival order: request i starts at its arrival time or when a
        // worker frees up, whichever is later, which caps concurrency without a semaphore.
        let counters = Counters()
        let client = setup.client
        let clock = ContinuousClock()
        let start = clock.now
        let records = await withTaskGroup(of: [(Int, RequestRecord)].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var mine: [(Int, RequestRecord)] = []
                    while true {
                        let index = counters.next.add(1, ordering: .relaxed).oldValue
                        guard index < requests.count else { break }
                        let due = start + .nanoseconds(Int64(arrivals[index] * 1e9))
                        if due > clock.now { try? await clock.sleep(until: due) }
                        mine.append((index, await client.send(requests[index])))
                        progress(counters.finished.add(1, ordering: .relaxed).newValue, requests.count)
                    }
                    return mine
                }
            }
            var all = [RequestRecord](repeating: RequestRecord(), count: requests.count)
            for await batch in group { for (index, record) in batch { all[index] = record } }
            return all
        }
        let elapsed = clock.now - start
        return (records, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    /// Shared by the workers: the next request to take and how many have finished.
    private final class Counters: Sendable {
        let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
    }
}
