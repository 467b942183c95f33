/// Two events around work queued on the device's stream: its device time, waited for.
final class EventTimer: @unchecked Sendable {
    let device: CUDADevice
    private var start: CUhandle?, stop: CUhandle?

    init(device: CUDADevice) throws(CUDAError) {
        self.device = device
        try device.driver.check(device.driver.cuEventCreate(&start, 0), "cuEventCreate")
        try device.driver.check(device.driver.cuEventCreate(&stop, 0), "cuEventCreate")
    }

    deinit {
        _ = device.driver.cuEventDestroy(start)
        _ = device.driver.cuEventDestroy(stop)
    }

    /// Seconds the device spent on what `body` queued.
    func seconds(_ body: () throws(CUDAError) -> Void) throws(CUDAError) -> Double {
        let driver = device.driver
        try driver.check(driver.cuEventRecord(start, device.stream), "cuEventRecord")
        try body()
        try driver.check(driver.cuEventRecord(stop, device.stream), "cuEventRecord")
        try driver.check(driver.cuEventSynchronize(stop), "cuEventSynchronize")
        var milliseconds: Float = 0
        try driver.check(driver.cuEventElapsedTime(&milliseconds, start, stop), "cuEventElapsedTime")
        return Double(milliseconds) / 1000
    }
}
