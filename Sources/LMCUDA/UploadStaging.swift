/// A step's small host-to-device copies (token ids, positions, block tables, sampling settings)
/// through page-locked memory. From pageable memory the driver may wait for the stream before it
/// copies, which would hold the next step's launch until the running step ends; from here the
/// copy is queued and the call returns. The memory is a ring of chunks: entering a chunk waits
/// for the copies queued from it the last time round (long done in a steady state).
final class UploadStaging: @unchecked Sendable {
    private let device: CUDADevice
    private let chunkBytes: Int
    private let chunkCount: Int
    private var chunks: [PinnedBlock] = []
    private var current = 0, offset = 0

    init(device: CUDADevice, chunkBytes: Int = 4 << 20, chunkCount: Int = 4) {
        self.device = device
        self.chunkBytes = chunkBytes
        self.chunkCount = chunkCount
    }

    /// Queues a copy of `bytes` to `destination` on the device's stream; `bytes` may be reused
    /// when this returns.
    func copy(_ bytes: UnsafeRawBufferPointer, to destination: CUdeviceptr) throws(CUDAError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let driver = device.driver
        device.makeCurrent()
        guard bytes.count <= chunkBytes else {
            // Larger than a chunk (a huge batch's block tables): the driver's pageable path.
            return try driver.check(driver.cuMemcpyHtoDAsync(destination, base, bytes.count, device.stream), "cuMemcpyHtoDAsync(\(bytes.count) bytes)")
        }
        if chunks.isEmpty { try allocate() }
        if offset + bytes.count > chunkBytes {
            try chunks[current].recordUse()
            current = (current + 1) % chunks.count
            try chunks[current].waitUntilUnused()
            offset = 0
        }
        let staged = chunks[current].memory + offset
        staged.copyMemory(from: base, byteCount: bytes.count)
        try driver.check(driver.cuMemcpyHtoDAsync(destination, staged, bytes.count, device.stream), "cuMemcpyHtoDAsync(\(bytes.count) staged bytes)")
        offset += (bytes.count + 255) & ~255
    }

    /// `copy` of an array's bytes.
    func copy<T>(_ values: [T], to destination: CUdeviceptr) throws(CUDAError) {
        let queued = values.withUnsafeBytes { bytes in Result { () throws(CUDAError) in try copy(bytes, to: destination) } }
        try queued.get()
    }

    private func allocate() throws(CUDAError) {
        for _ in 0..<chunkCount { chunks.append(try PinnedBlock(device: device, byteCount: chunkBytes)) }
    }
}
