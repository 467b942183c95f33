import Dispatch
import Synchronization

/// Weight uploads through pinned staging: each chunk of the source is copied (by several threads)
/// into one of two page-locked buffers while the device copies the other one in, so the host
/// copy and the transfer overlap (`PEREGRINE_CUDA_PINNED_UPLOAD=0`: the driver stages pageable
/// sources itself). A copy returns once its source has been read; the device may still be
/// writing the destination (stream-ordered before any later work).
final class PinnedUploader: @unchecked Sendable {
    private let device: CUDADevice
    private let chunkBytes: Int
    private let threads: Int
    /// Two staging buffers (each with the event after its last device copy), and the one the
    /// next chunk goes to (alternating across calls too, so small tensors overlap as well).
    private struct Staging {
        var buffers: [PinnedBlock] = []
        var next = 0
    }
    private let staging = Mutex(Staging())

    init(device: CUDADevice, chunkBytes: Int = 32 << 20, threads: Int = 8) {
        self.device = device
        self.chunkBytes = chunkBytes
        self.threads = threads
    }

    /// Copies `source` to device memory at `destination`.
    func copy(_ source: UnsafeRawBufferPointer, to destination: CUdeviceptr) throws(CUDAError) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        let driver = device.driver
        device.makeCurrent()
        try staging.withLock { (staging: inout Staging) throws(CUDAError) in
            if staging.buffers.isEmpty {
                staging.buffers = [try PinnedBlock(device: device, byteCount: chunkBytes), try PinnedBlock(device: device, byteCount: chunkBytes)]
            }
            for offset in stride(from: 0, to: source.count, by: chunkBytes) {
                let count = min(chunkBytes, source.count - offset)
                let buffer = staging.buffers[staging.next]
                // The buffer's previous transfer must be done before it is overwritten.
                try buffer.waitUntilUnused()
                parallelCopy(from: base + offset, to: buffer.memory, count: count)
                try driver.check(driver.cuMemcpyHtoDAsync(destination + CUdeviceptr(offset), buffer.memory, count, device.stream),
                                 "cuMemcpyHtoDAsync(\(count) staged bytes)")
                try buffer.recordUse()
                staging.next = 1 - staging.next
            }
        }
    }

    /// A large copy split over threads: reading a freshly mapped checkpoint is bound by page
    /// faults and memory bandwidth, which one thread does not saturate.
    private func parallelCopy(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int) {
        let parts = count >= 4 << 20 ? threads : 1
        let slice = (count + parts - 1) / parts
        // Addresses as integers: each part touches its own bytes, and both buffers outlive the call.
        let from = UInt(bitPattern: source), to = UInt(bitPattern: destination)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = part * slice, end = min(count, start + slice)
            guard start < end, let target = UnsafeMutableRawPointer(bitPattern: to + UInt(start)),
                  let origin = UnsafeRawPointer(bitPattern: from + UInt(start)) else { return }
            target.copyMemory(from: origin, byteCount: end - start)
        }
    }
}
