import LMTensor

/// A step's device buffers, grown when a larger step needs more and then reused, so the steady
/// state allocates nothing: the copy of its `AttentionBatch` (uploaded once per step; every
/// layer's KV write and attention read the same one), scratch for kernels (split-K partials, a
/// packed projection's output) and for sampling (parameters, weights, results).
///   positions [T], tokenTables [T] (each token's row of blockTables), slots [T],
///   blockTables [S, maxBlocks]; decodeRows [N]: rows of sequences with one new token (split-K
///   decode kernel); tiles [n, 2]: (first row, count ≤ 32) of the others (prefill kernel).
struct StepBuffers {
    let device: CUDADevice
    let uploads: UploadStaging
    private(set) var batch: AttentionBatch?
    private var buffers: [String: CUDABuffer] = [:]
    /// Row stride of blockTables: a power of two, so it changes rarely as contexts grow (a
    /// recorded step is keyed by it).
    private(set) var maxBlocks = 1
    private(set) var decodeCount = 0
    private(set) var tileCount = 0
    /// Counts reallocations of buffers a recorded step may use: it is only valid within one
    /// generation. Sampling's buffers live outside recorded steps and do not count.
    private(set) var generation = 0

    init(device: CUDADevice, uploads: UploadStaging) {
        self.device = device
        self.uploads = uploads
    }

    func tensor(_ name: String, count: Int) -> Tensor {
        Tensor(buffer: buffers[name]!, dtype: .i32, shape: Shape(count))
    }

    /// Uploads `batch` unless it is the one already on the device.
    mutating func prepare(_ batch: AttentionBatch) throws(CUDAError) {
        if self.batch == batch { return }
        let tokens = batch.tokenCount
        var positions = [Int32](repeating: 0, count: tokens), tokenTables = [Int32](repeating: 0, count: tokens)
        let longest = max(1, batch.sequences.map(\.blockTable.count).max() ?? 1)
        maxBlocks = 1 << (Int.bitWidth - (longest - 1).leadingZeroBitCount)
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
        var decodeRows: [Int32] = [], tiles: [Int32] = []
        for sequence in batch.sequences {
            if sequence.queryCount == 1 {
                decodeRows.append(Int32(sequence.queryStart))
            } else {
                for start in stride(from: 0, to: sequence.queryCount, by: 32) {
                    tiles += [Int32(sequence.queryStart + start), Int32(min(32, sequence.queryCount - start))]
                }
            }
        }
        decodeCount = decodeRows.count
        tileCount = tiles.count / 2
        if !decodeRows.isEmpty { try upload(decodeRows, "decodeRows") }
        if !tiles.isEmpty { try upload(tiles, "tiles") }
        self.batch = batch
    }

    /// Scratch of at least `bytes` (split-K partials), reused across steps.
    mutating func scratch(_ name: String, bytes: Int, recorded: Bool = true) throws(CUDAError) -> CUdeviceptr {
        try reserve(name, bytes: bytes, recorded: recorded)
        return buffers[name]!.address
    }

    /// A scratch tensor (a packed projection's output), reused across steps.
    mutating func scratchTensor(_ name: String, shape: Shape, dtype: DType) throws(CUDAError) -> Tensor {
        try reserve(name, bytes: dtype.byteCount(elements: shape.elementCount))
        return Tensor(buffer: buffers[name]!, dtype: dtype, shape: shape)
    }

    /// A scratch i32 buffer of at least `count` elements (argmax results).
    mutating func scratchIndices(count: Int) throws(CUDAError) -> Tensor {
        try reserve("scratch", bytes: count * 4, recorded: false)
        return tensor("scratch", count: count)
    }

    /// Copies `values` into scratch `name` (sampling parameters); returns its address.
    mutating func upload(floats values: [Float], _ name: String) throws(CUDAError) -> CUdeviceptr {
        try upload(values, name, recorded: false)
        return buffers[name]!.address
    }

    /// Copies `values` into scratch `name` (logit edits); returns its address.
    mutating func upload(ints values: [Int32], _ name: String) throws(CUDAError) -> CUdeviceptr {
        try upload(values, name, recorded: false)
        return buffers[name]!.address
    }

    private mutating func upload<T>(_ values: [T], _ name: String, recorded: Bool = true) throws(CUDAError) {
        try reserve(name, bytes: values.count * MemoryLayout<T>.stride, recorded: recorded)
        try uploads.copy(values, to: buffers[name]!.address)
    }

    private mutating func reserve(_ name: String, bytes: Int, recorded: Bool = true) throws(CUDAError) {
        if let existing = buffers[name], existing.byteCount >= bytes { return }
        // A step still in flight may read the buffer being replaced (cuMemFree only "may"
        // synchronize): wait for it. Growth is rare (geometric, so a slowly growing batch
        // reallocates seldom).
        if buffers[name] != nil { try device.synchronize() }
        buffers[name] = try CUDABuffer(device: device, byteCount: max(bytes, (buffers[name]?.byteCount ?? 0) * 2, 4096))
        if recorded { generation += 1 }
    }
}
