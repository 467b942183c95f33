import LMTensor

/// Page-locked landing places for token ids coming back from the device (`startDownload`): the
/// copy is queued behind the step's work with an event after it, so the host can queue the next
/// step and read these when the event has passed. A place is reused once read.
final class TokenReadbacks: @unchecked Sendable {
    private final class Place {
        let driver: CUDADriver
        let memory: UnsafeMutableRawPointer
        let capacity: Int   // i32 values
        let event: CUhandle?

        init(device: CUDADevice, capacity: Int) throws(CUDAError) {
            driver = device.driver
            var event: CUhandle?
            try driver.check(driver.cuEventCreate(&event, 2), "cuEventCreate")   // CU_EVENT_DISABLE_TIMING
            var memory: UnsafeMutableRawPointer?
            let allocated = driver.cuMemAllocHost(&memory, capacity * 4)
            guard allocated == 0, let memory else {
                _ = driver.cuEventDestroy(event)
                try driver.check(allocated, "cuMemAllocHost(\(capacity * 4) bytes)")
                throw .unsupported("cuMemAllocHost returned no memory")
            }
            self.memory = memory
            self.capacity = capacity
            self.event = event
        }

        deinit {
            _ = driver.cuEventSynchronize(event)
            _ = driver.cuEventDestroy(event)
            _ = driver.cuMemFreeHost(memory)
        }
    }

    private let device: CUDADevice
    private var free: [Place] = []

    init(device: CUDADevice) { self.device = device }

    /// Queues the copy of i32 `tensor` to the host.
    func start(_ tensor: Tensor) throws(CUDAError) -> PendingTokens {
        let count = tensor.elementCount, driver = device.driver
        device.makeCurrent()
        var place = free.popLast()
        if place.map({ $0.capacity < count }) ?? true { place = try Place(device: device, capacity: max(count, 256)) }
        guard let place else { preconditionFailure("no readback place") }
        try driver.check(driver.cuMemcpyDtoHAsync(place.memory, tensor.address, count * 4, device.stream), "cuMemcpyDtoHAsync(\(count * 4) bytes)")
        try driver.check(driver.cuEventRecord(place.event, device.stream), "cuEventRecord(readback)")
        return PendingTokens { [self] in
            do {
                try driver.check(driver.cuEventSynchronize(place.event), "cuEventSynchronize(readback)")
            } catch {
                fatalError("\(error)")   // the device faulted: see CUDABackend's comment
            }
            let values = Array(UnsafeBufferPointer(start: place.memory.assumingMemoryBound(to: Int32.self), count: count))
            free.append(place)
            return values
        }
    }
}
