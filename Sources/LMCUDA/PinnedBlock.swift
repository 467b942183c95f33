/// Page-locked host memory and the event recorded after the last device copy that used it, so
/// the host knows when it may overwrite the memory (or read what the device wrote into it). The
/// weight uploader, a step's input staging and the token readbacks are each made of these.
final class PinnedBlock: @unchecked Sendable {
    let memory: UnsafeMutableRawPointer
    let byteCount: Int
    private let device: CUDADevice
    private let event: CUhandle?

    init(device: CUDADevice, byteCount: Int) throws(CUDAError) {
        let driver = device.driver
        var event: CUhandle?
        try driver.check(driver.cuEventCreate(&event, 2), "cuEventCreate")   // CU_EVENT_DISABLE_TIMING
        var memory: UnsafeMutableRawPointer?
        let allocated = driver.cuMemAllocHost(&memory, byteCount)
        guard allocated == 0, let memory else {
            _ = driver.cuEventDestroy(event)
            try driver.check(allocated, "cuMemAllocHost(\(byteCount) bytes)")
            throw .unsupported("cuMemAllocHost returned no memory")
        }
        self.device = device
        self.memory = memory
        self.byteCount = byteCount
        self.event = event
    }

    /// Waits for the last copy, then frees both.
    deinit {
        _ = device.driver.cuEventSynchronize(event)
        _ = device.driver.cuEventDestroy(event)
        _ = device.driver.cuMemFreeHost(memory)
    }

    /// Marks the copies queued so far on the device's stream as this memory's last use.
    func recordUse() throws(CUDAError) {
        try device.driver.check(device.driver.cuEventRecord(event, device.stream), "cuEventRecord(pinned block)")
    }

    /// Blocks until the last use recorded is done (at once if none was).
    func waitUntilUnused() throws(CUDAError) {
        try device.driver.check(device.driver.cuEventSynchronize(event), "cuEventSynchronize(pinned block)")
    }
}
