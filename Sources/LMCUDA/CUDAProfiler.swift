import Synchronization

/// Per-kernel device time, for finding what a step spends (`PEREGRINE_CUDA_PROFILE=1`): each op
/// is bracketed by events and waited for, so launches no longer overlap: use it to rank kernels,
/// not to time a step.
public final class CUDAProfiler: @unchecked Sendable {
    private let timer: EventTimer
    private let totals = Mutex<[String: (count: Int, seconds: Double)]>([:])

    init(device: CUDADevice) throws(CUDAError) {
        timer = try EventTimer(device: device)
    }

    func measure(_ name: String, _ body: () throws(CUDAError) -> Void) throws(CUDAError) {
        let seconds = try timer.seconds(body)
        totals.withLock { totals in
            let old = totals[name] ?? (0, 0)
            totals[name] = (old.count + 1, old.seconds + seconds)
        }
    }

    public func reset() { totals.withLock { $0 = [:] } }

    /// One kernel's launches and device time since the last reset.
    public struct Entry: Sendable {
        public var name: String
        public var count: Int
        public var milliseconds: Double
        /// Its part of all the profiled time.
        public var share: Double
    }

    /// Kernels by total time.
    public func report() -> [Entry] {
        let entries = totals.withLock { $0 }
        let all = entries.values.reduce(0) { $0 + $1.seconds }
        return entries.sorted { $0.value.seconds > $1.value.seconds }
            .map { Entry(name: $0.key, count: $0.value.count, milliseconds: $0.value.seconds * 1000, share: $0.value.seconds / max(all, 1e-12)) }
    }
}
