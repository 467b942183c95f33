import LMTensor

/// Page-locked landing places for token ids coming back from the device (`startDownload`): the
/// copy is queued behind the step's work with an event after it, so the host can queue the next
/// step and read these when the event has passed. A place is reused once read.
final class TokenReadbacks: @unchecked Sendable {
    private let device: CUDADevice
    private var free: [PinnedBlock] = []

    init(device: CUDADevice) { self.device = device }

    /// Queues the copy of i32 `tensor` to the host.
    func start(_ tensor: Tensor) throws(CUDAError) -> PendingTokens {
        let bytes = tensor.elementCount * 4, driver = device.driver
        device.makeCurrent()
        var place = free.popLast()
        if place.map({ $0.byteCount < bytes }) ?? true { place = try PinnedBlock(device: device, byteCount: max(bytes, 1024)) }
        guard let place else { preconditionFailure("no readback place") }
        try driver.check(driver.cuMemcpyDtoHAsync(place.memory, tensor.address, bytes, device.stream), "cuMemcpyDtoHAsync(\(bytes) bytes)")
        try place.recordUse()
        return PendingTokens { [self] in
            do {
                try place.waitUntilUnused()
            } catch {
                fatalError("\(error)")   // the device faulted: see CUDABackend's comment
            }
            let values = Array(UnsafeBufferPointer(start: place.memory.assumingMemoryBound(to: Int32.self), count: bytes / 4))
            free.append(place)
            return values
        }
    }
}
