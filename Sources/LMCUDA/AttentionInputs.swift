import LMTensor

/// The device copy of a step's `AttentionBatch`, uploaded once per step (every layer's KV write
/// and attention read the same one) into buffers that grow and are then reused, so the steady
/// state allocates nothing.
///   positions [T], tokenTables [T] (each token's row of blockTables), slots [T],
///   blockTables [S, maxBlocks].
struct AttentionInputs {
    let device: CUDADevice
    private(set) var batch: AttentionBatch?
    private var buffers: [String: CUDABuffer] = [:]
    private(set) var maxBlocks = 1

    init(device: CUDADevice) { self.device = device }

    func tensor(_ name: String, count: Int) -> Tensor {
        Tensor(buffer: buffers[name]!, dtype: .i32, shape: Shape(count))
    }

    /// Uploads `batch` unless it is the one already on the device.
    mutating func prepare(_ batch: AttentionBatch) throws(CUDAError) {
        if self.batch == batch { return }
        let tokens = batch.tokenCount
        var positions = [Int32](repeating: 0, count: tokens), tokenTables = [Int32](repeating: 0, count: tokens)
        maxBlocks = max(1, batch.sequences.map(\.blockTable.count).max() ?? 1)
        var tables = [Int32](repeating: 0, count: batch.sequences.count * maxBlocks)
        for (s, sequence) in batch.sequences.enumerated() {
            for i in 0..<sequence.queryCount {
                positions[sequence.queryStart + i] = Int32(sequence.firstPosition + i)
                tokenTables[sequence.queryStart + i] = Int32(s)
            }
            for (b, block) in sequence.blockTable.enumerated() { tables[s * maxBlocks + b] = block }
        }
        try upload(positions, "positions")
        try upload(tokenTables, "tokenTables")
        try upload(batch.slotMapping, "slots")
        try upload(tables, "blockTables")
        self.batch = batch
    }

    /// A scratch i32 buffer of at least `count` elements (argmax results).
    mutating func scratchIndices(count: Int) throws(CUDAError) -> Tensor {
        try reserve("scratch", bytes: count * 4)
        return tensor("scratch", count: count)
    }

    private mutating func upload(_ values: [Int32], _ name: String) throws(CUDAError) {
        try reserve(name, bytes: values.count * 4)
        device.makeCurrent()
        let result = values.withUnsafeBytes { device.driver.cuMemcpyHtoDAsync(buffers[name]!.address, $0.baseAddress, $0.count, device.stream) }
        try device.driver.check(result, "cuMemcpyHtoDAsync(\(name))")
    }

    private mutating func reserve(_ name: String, bytes: Int) throws(CUDAError) {
        if let existing = buffers[name], existing.byteCount >= bytes { return }
        // Grow geometrically so a slowly growing batch reallocates rarely.
        buffers[name] = try CUDABuffer(device: device, byteCount: max(bytes, (buffers[name]?.byteCount ?? 0) * 2, 4096))
    }
}
