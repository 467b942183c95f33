import Synchronization

/// Per-kernel device time, for finding what a step spends (`PEREGRINE_CUDA_PROFILE=1`): each op
/// is bracketed by events and waited for, so launches no longer overlap: use it to rank kernels,
/// not to time a step.
public final class CUDAProfiler: @unchecked Sendable {
    let device: CUDADevice
    private var start: CUhandle?, stop: CUhandle?
    private let totals = Mutex<[String: (count: Int, seconds: Double)]>([:])

    init(device: CUDADevice) throws(CUDAError) {
        self.device = device
        try device.driver.check(device.driver.cuEventCreate(&start, 0), "cuEventCreate")
        try device.driver.check(device.driver.cuEventCreate(&stop, 0), "cuEventCreate")
    }

    func measure(_ name: String, _ body: () throws(CUDAError) -> Void) throws(CUDAError) {
        let driver = device.driver
        try driver.check(driver.cuEventRecord(start, device.stream), "cuEventRecord")
        try body()
        try driver.check(driver.cuEventRecord(stop, device.stream), "cuEventRecord")
        try driver.check(driver.cuEventSynchronize(stop), "cuEventSynchronize")
        var milliseconds: Float = 0
        try driver.check(driver.cuEventElapsedTime(&milliseconds, start, stop), "cuEventElapsedTime")
        totals.withLock { totals in
            let old = totals[name] ?? (0, 0)
            totals[name] = (old.count + 1, old.seconds + Double(milliseconds) / 1000)
        }
    }

    public func reset() { totals.withLock { $0 = [:] } }

    /// Kernels by total time: name, launches, total ms, share.
    public func report() -> [(name: String, count: Int, milliseconds: Double, share: Double)] {
        let entries = totals.withLock { $0 }
        let all = entries.values.reduce(0) { $0 + $1.seconds }
        return entries.sorted { $0.value.seconds > $1.value.seconds }.map { ($0.key, $0.value.count, $0.value.seconds * 1000, $0.value.seconds / max(all, 1e-12)) }
    }
}
