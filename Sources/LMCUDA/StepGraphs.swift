import LMTensor

/// Forward steps recorded as CUDA graphs and replayed: a decode step is hundreds of small
/// launches, and a graph replays them without the host in between (no launch gaps, no host
/// work per op). A key is recorded the second time it comes: the first run, eager, allocates
/// the scratch the step needs and builds its cuBLASLt plans, since nothing may allocate while a
/// stream is being captured. Recordings hold buffer addresses, so they live within one
/// generation of the backend's step buffers and until their owner discards them. Like the
/// backend, driven by one thread at a time (a model is released after its engine stopped).
final class StepGraphs {
    struct Key: Hashable {
        let step: StepReplayKey
        /// Row stride of the device block tables (a kernel argument).
        let tableStride: Int
    }
    private enum Entry {
        case seen
        case recorded(CUhandle)
    }

    private let device: CUDADevice
    private var entries: [Key: Entry] = [:]
    private var generation = 0
    /// Graphs recorded so far (logs and tests).
    private(set) var recordedCount = 0
    /// Steps replayed from a graph.
    private(set) var replayedCount = 0
    /// Host seconds spent in cuGraphLaunch.
    private(set) var launchSeconds = 0.0
    /// Past this many keys everything is dropped (keys are batch sizes: a server sees few).
    private let limit = 512

    init(device: CUDADevice) { self.device = device }

    deinit { for case let .recorded(graph) in entries.values { _ = device.driver.cuGraphExecDestroy(graph) } }

    /// Runs `body` eagerly, records it, or replays its recording, by how often `key` came in
    /// this `generation` of the step buffers.
    func run(_ key: Key, generation: Int, _ body: () -> Void) throws(CUDAError) {
        if generation != self.generation || entries.count >= limit {
            discard { _ in true }
            self.generation = generation
        }
        switch entries[key] {
        case nil:
            body()
            entries[key] = .seen
        case .seen:
            let graph = try record(body)
            entries[key] = .recorded(graph)
            try replay(graph)
        case .recorded(let graph):
            try replay(graph)
        }
    }

    /// Drops the recordings of `owner`.
    func discard(owner: ObjectIdentifier) { discard { $0.step.owner == owner } }

    private func discard(where matches: (Key) -> Bool) {
        for (key, entry) in entries where matches(key) {
            if case .recorded(let graph) = entry { _ = device.driver.cuGraphExecDestroy(graph) }
            entries.removeValue(forKey: key)
        }
    }

    private func record(_ body: () -> Void) throws(CUDAError) -> CUhandle {
        let driver = device.driver
        device.makeCurrent()
        // Thread-local mode: only this thread is barred from unsafe calls (allocations) meanwhile.
        try driver.check(driver.cuStreamBeginCapture(device.stream, 1), "cuStreamBeginCapture")
        body()
        var graph: CUhandle?
        try driver.check(driver.cuStreamEndCapture(device.stream, &graph), "cuStreamEndCapture")
        defer { _ = driver.cuGraphDestroy(graph) }
        var executable: CUhandle?
        try driver.check(driver.cuGraphInstantiateWithFlags(&executable, graph, 0), "cuGraphInstantiateWithFlags")
        guard let executable else { throw .unsupported("cuGraphInstantiateWithFlags returned no graph") }
        recordedCount += 1
        return executable
    }

    private func replay(_ graph: CUhandle) throws(CUDAError) {
        device.makeCurrent()
        let start = monotonicSeconds()
        try device.driver.check(device.driver.cuGraphLaunch(graph, device.stream), "cuGraphLaunch")
        launchSeconds += monotonicSeconds() - start
        replayedCount += 1
    }
}
