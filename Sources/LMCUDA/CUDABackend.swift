import LMTensor

/// The models' ops on an NVIDIA GPU: our kernels (compiled by NVRTC at first use) and
/// cuBLASLt for the matrix products. Activations and KV caches are bf16; every op is queued on
/// one stream, so the host returns at once and `download`/`argmax` wait.
///
/// Ops cannot throw (the `Backend` protocol is the CPU's); a failed launch after a successful
/// start means the device is gone or faulted, which no request can recover from, so it stops
/// the process with the failing call named.
public final class CUDABackend: Backend, @unchecked Sendable {
    public let device: CUDADevice
    let matmul: MatrixMultiplier
    var stepBuffers: StepBuffers
    /// Turns a quantized checkpoint tensor into f32 values (the CPU's reference dequantizers);
    /// nil refuses quantized weights.
    let dequantize: (@Sendable (HostTensor) -> [Float])?
    /// Set when `PEREGRINE_CUDA_PROFILE=1`: every op is timed alone.
    public let profiler: CUDAProfiler?
    /// Linears of up to this many tokens run our GEMV, the others cuBLASLt: 1 by default
    /// (`PEREGRINE_CUDA_GEMV_MAX_TOKENS` up to 8 for experiments, `PEREGRINE_CUDA_GEMV=0`: none).
    /// On an H200 (`bench linear`) the GEMV wins at one token (with q/k/v and gate/up in one launch
    /// each, 202.5 against 193.8 tok/s batch-1 decode with cuBLASLt only) but at 8 tokens streams
    /// Llama-3-8B's gate/up in 149.5 µs where cuBLASLt takes 59.9.
    let gemvMaxTokens: Int
    /// Our GEMV takes rows of at most this many columns (`PEREGRINE_CUDA_GEMV_MAX_COLUMNS`):
    /// longer ones go to cuBLASLt. No limit by default with the one-token instances (Llama-3-8B's
    /// down projection on them: batch-1 decode 181.0 against 178.3 tok/s on an H100 with it on
    /// cuBLASLt); 8192 without them, where cuBLASLt was the faster (down at one token on an
    /// H200: 31.5 µs against our 35.3).
    let gemvMaxColumns: Int
    /// One-token linears, packed projections and gated MLPs on each GEMV kernel's one-token
    /// instance, named with "_one" after it (one sum a lane; `PEREGRINE_CUDA_GEMV_ONE=0`: the
    /// 8-token ones). Batch-1 decode on an H200 247.5 against 236.5 tok/s (241.1 with the
    /// one-token registers capped for 6 blocks a multiprocessor, gemv.cu's GEMV_ONE_BLOCKS); on an
    /// H100, capped and linears only, 183.0 against 180.3.
    let gemvOneToken: Bool
    /// Packed projections of a few tokens in one GEMV launch (`PEREGRINE_CUDA_PACKED_GEMV=0`: one per projection).
    let packedGEMV: Bool
    /// `PEREGRINE_CUDA_GEMV_SPLIT=1|2|4|8`: warps per GEMV row for every shape (experiments).
    let gemvSplitOverride: Int?
    /// Split-K decode attention aims at this many blocks per multiprocessor
    /// (`PEREGRINE_CUDA_DECODE_BLOCKS_PER_SM`, default 8: at 64 sequences of ~1,100 tokens on an
    /// H200, 8 gave 7,014 full-width tok/s, 4 gave 6,976, 16 6,850 and 32 6,340).
    let decodeBlocksPerSM: Int
    /// RoPE and the KV-cache write in one launch (`PEREGRINE_CUDA_FUSED_ROPE_KV=0` turns it off):
    /// batch-1 decode on an H200 206.4 -> 212.8 tok/s; 64 sequences unchanged.
    let fusedRopeWriteKV: Bool
    /// For the GEMV's tokens, the packed q/k/v GEMV does the rotation and the cache write in its
    /// epilogue (gemv_rope_kv): no launch between a layer's input GEMV and its attention. Off
    /// (`PEREGRINE_CUDA_GEMV_ROPE=1` turns it on): on an H100, batch-1 decode 179.6 against 179.7
    /// tok/s (measured before the one-token GEMV instances).
    let gemvRopeWriteKV: Bool
    /// For the GEMV's tokens, a model's layers run their residual adds inside the output GEMVs and
    /// their norms inside the input GEMVs (`fusesResidualNorms`): no norm launches, and the q/k/v
    /// GEMV rotates and writes the cache itself whatever `gemvRopeWriteKV` says. Correct but off
    /// (`PEREGRINE_CUDA_FUSED_NORMS=1` turns it on): on an H100, batch-1 decode of Llama-3-8B's
    /// shapes 178.4 / 178.5 against 179.7 / 179.7 tok/s, the in-block norm sitting after every
    /// block's PDL wait where the separate norm ran while the previous GEMV drained.
    let fusedResidualNorms: Bool
    /// `addLinear` past the GEMV (rows longer than `gemvMaxColumns`, or more tokens) adds into the
    /// residual inside cuBLASLt (beta = 1) instead of a product and an `add` launch
    /// (`PEREGRINE_CUDA_GEMM_ACCUMULATE=0` turns it off): under the fused schedule on an H100
    /// 178.4 against 177.5 tok/s, though the accumulating product alone takes 57.8 µs to 51.8.
    let gemmAccumulate: Bool
    /// An MLP's gate/up GEMM feeds the activation straight from its packed output
    /// (`PEREGRINE_CUDA_PACKED_GATED=0` turns it off): on an H200 at 64 sequences 7,653 vs 7,599 tok/s
    /// full-width, 16 sequences 2,687 vs 2,642.
    let packedGatedLinear: Bool
    /// An MLP's gated input for one token in one GEMV launch with the activation
    /// (`PEREGRINE_CUDA_GEMV_GATED=0` turns it off).
    let gemvGated: Bool
    /// Prefill attention on tensor cores (paged_prefill_mma.cu) for bf16 heads of 64 or 128 dims
    /// on sm_80 and later (`PEREGRINE_CUDA_MMA_PREFILL=0`: the CUDA-core kernel): on an H200 a
    /// 512-token prompt of Llama-3-8B's shapes 37,594 vs 27,146 tok/s, 2,048 tokens 34,369 vs 17,892.
    let tensorCorePrefill: Bool
    /// bf16 RMSNorms (with or without the residual add) on the one-pass `_x8` kernels
    /// (`PEREGRINE_CUDA_VECTOR_NORM=0`: the looping ones). On an H200 (Llama-3-8B shapes) batch-1
    /// decode 230.4/230.0 vs 221.4/221.4 tok/s, prefill 512 38,494/38,154 vs 37,420/37,479,
    /// 64 x 1,024 full-width 8,391 vs 8,235.
    let vectorNorms: Bool
    /// Decode attention on tensor cores (paged_decode_mma.cu) for bf16 heads of 64 or 128 dims, up
    /// to 8 query heads per KV head, on sm_80 and later, with this many shared-memory stages per
    /// warp (`PEREGRINE_CUDA_MMA_DECODE=2|3`, default 2; `=0`: the CUDA-core kernel). On an H200 at
    /// 64 sequences of ~1,100 tokens (Llama-3-8B shapes) 8,318/8,312 full-width tok/s with 2 stages,
    /// 8,138/8,141 with 3, 7,967/7,985 on CUDA cores; per launch 65.9 vs 72.5 µs.
    let tensorCoreDecodeStages: Int?
    /// Linears of 2 to 64 tokens on our tensor-core kernel (skinny_gemm.cu) instead of cuBLASLt,
    /// under `PEREGRINE_CUDA_SKINNY_GEMM=1`. Correct on an H200 (check-backend, graph replay) but
    /// slower than cuBLASLt past 16 tokens (`bench linear` at T 64: q/k/v 33.6 vs 18.0 µs, gate/up
    /// 139 vs 66; 166 registers leave one block per SM), and at 16 faster only for o (13.6 vs 16.5).
    let skinnyGEMM: Bool
    /// Weights go to the device through pinned staging (nil: `PEREGRINE_CUDA_PINNED_UPLOAD=0`).
    let uploader: PinnedUploader?
    /// A step's inputs go to the device through page-locked memory, so queuing them never waits.
    let uploads: UploadStaging
    /// Sampled tokens come back through page-locked memory (`startDownload`).
    let readbacks: TokenReadbacks
    /// Decode steps recorded as CUDA graphs; nil when every op runs eagerly (asked for, or profiling).
    let stepGraphs: StepGraphs?

    /// - Parameter recordSteps: replay decode steps from CUDA graphs (off: `--enforce-eager`).
    public init(device: CUDADevice, dequantize: (@Sendable (HostTensor) -> [Float])? = nil, recordSteps: Bool = true) throws(CUDAError) {
        self.device = device
        self.dequantize = dequantize
        profiler = device.environment["PEREGRINE_CUDA_PROFILE"] == "1" ? try CUDAProfiler(device: device) : nil
        gemvMaxTokens = device.environment["PEREGRINE_CUDA_GEMV"] == "0" ? 0
            : device.environment["PEREGRINE_CUDA_GEMV_MAX_TOKENS"].flatMap(Int.init).map { max(0, min($0, 8)) } ?? 1
        gemvOneToken = device.environment["PEREGRINE_CUDA_GEMV_ONE"] != "0"
        gemvMaxColumns = device.environment["PEREGRINE_CUDA_GEMV_MAX_COLUMNS"].flatMap(Int.init).map { max(8, $0) } ?? (gemvOneToken ? Int.max : 8192)
        packedGatedLinear = device.environment["PEREGRINE_CUDA_PACKED_GATED"] != "0"
        gemvGated = device.environment["PEREGRINE_CUDA_GEMV_GATED"] != "0"
        tensorCorePrefill = device.environment["PEREGRINE_CUDA_MMA_PREFILL"] != "0" && device.computeCapability.major >= 8
        vectorNorms = device.environment["PEREGRINE_CUDA_VECTOR_NORM"] != "0"
        let decodeStages = device.environment["PEREGRINE_CUDA_MMA_DECODE"].map { Int($0) ?? 0 } ?? 2
        tensorCoreDecodeStages = device.computeCapability.major >= 8 && [2, 3].contains(decodeStages) ? decodeStages : nil
        skinnyGEMM = device.environment["PEREGRINE_CUDA_SKINNY_GEMM"] == "1" && device.computeCapability.major >= 8
        uploader = device.environment["PEREGRINE_CUDA_PINNED_UPLOAD"] == "0" ? nil : PinnedUploader(device: device)
        packedGEMV = device.environment["PEREGRINE_CUDA_PACKED_GEMV"] != "0"
        fusedRopeWriteKV = device.environment["PEREGRINE_CUDA_FUSED_ROPE_KV"] != "0"
        gemvRopeWriteKV = device.environment["PEREGRINE_CUDA_GEMV_ROPE"] == "1"
        fusedResidualNorms = device.environment["PEREGRINE_CUDA_FUSED_NORMS"] == "1"
        gemmAccumulate = device.environment["PEREGRINE_CUDA_GEMM_ACCUMULATE"] != "0"
        decodeBlocksPerSM = device.environment["PEREGRINE_CUDA_DECODE_BLOCKS_PER_SM"].flatMap(Int.init).map { max(1, min($0, 64)) } ?? 8
        gemvSplitOverride = device.environment["PEREGRINE_CUDA_GEMV_SPLIT"].flatMap(Int.init).flatMap { [1, 2, 4, 8].contains($0) ? $0 : nil }
        // The profiler times each op alone, which a replayed graph cannot do.
        stepGraphs = recordSteps && profiler == nil ? StepGraphs(device: device) : nil
        matmul = try MatrixMultiplier(device: device)
        uploads = UploadStaging(device: device)
        readbacks = TokenReadbacks(device: device)
        stepBuffers = StepBuffers(device: device, uploads: uploads)
        // Compile (or load from the cache) every kernel now, not inside the first request.
        for module in KernelSource.all { _ = try device.function(module.functions[0], module: module) }
    }

    /// Opens GPU `ordinal` (errors name what is missing: the driver, a GPU, NVRTC, cuBLASLt).
    public convenience init(ordinal: Int = 0, environment: [String: String], dequantize: (@Sendable (HostTensor) -> [Float])? = nil,
                            recordSteps: Bool = true) throws(CUDAError) {
        try self.init(device: CUDADevice(ordinal: ordinal, environment: environment), dequantize: dequantize, recordSteps: recordSteps)
    }

    /// (recorded, replayed) decode-step graphs so far.
    public var stepGraphCounts: (recorded: Int, replayed: Int) { (stepGraphs?.recordedCount ?? 0, stepGraphs?.replayedCount ?? 0) }
    /// Host seconds spent launching replayed graphs so far.
    public var stepGraphLaunchSeconds: Double { stepGraphs?.launchSeconds ?? 0 }

    public var name: String { "cuda (\(device.name), sm_\(device.architecture))" }
    public var activationDType: DType { .bf16 }

    // MARK: Memory

    public func allocate(_ shape: Shape, dtype: DType) throws -> Tensor {
        Tensor(buffer: try CUDABuffer(device: device, byteCount: dtype.byteCount(elements: shape.elementCount)), dtype: dtype, shape: shape)
    }

    /// Float weights are stored as bf16 (matrices and rank-1 weights alike); quantized ones must
    /// be dequantized by the loader first.
    public func loadWeight(_ host: HostTensor) throws -> Tensor {
        let values: [UInt16]
        switch host.dtype {
        case .bf16:
            // Straight from the checkpoint's (mapped) bytes: no host copy of 2 bytes per weight.
            let tensor = try allocate(host.shape, dtype: .bf16)
            try copyWeight(UnsafeRawBufferPointer(host.bytes), to: tensor, name: host.name)
            return tensor
        case .f32: values = host.bytes.bindMemory(to: Float.self).map(BFloat16Conversion.fromFloat)
        case .f16: values = host.bytes.bindMemory(to: Float16.self).map { BFloat16Conversion.fromFloat(Float($0)) }
        default:
            guard let dequantize else { throw CUDAError.unsupported("\(host.name): weights of type \(host.dtype)") }
            values = dequantize(host).map(BFloat16Conversion.fromFloat)
        }
        let tensor = try allocate(host.shape, dtype: .bf16)
        try values.withUnsafeBytes { try copyWeight($0, to: tensor, name: host.name) }
        return tensor
    }

    /// A weight's bytes to the device: through pinned staging, or (`PEREGRINE_CUDA_PINNED_UPLOAD=0`)
    /// from pageable memory by the driver. Either way the source has been read when this returns.
    private func copyWeight(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor, name: String) throws(CUDAError) {
        guard !bytes.isEmpty else { return }
        if let uploader { return try uploader.copy(bytes, to: tensor.address) }
        device.makeCurrent()
        try device.driver.check(device.driver.cuMemcpyHtoDAsync(tensor.address, bytes.baseAddress, bytes.count, device.stream),
                                "cuMemcpyHtoDAsync(\(name), \(bytes.count) bytes)")
    }

    /// Matrices of the same width (q/k/v, gate/up) go back to back into one allocation, so
    /// `linear(_:projections:outs:)` can run them as one GEMM. Each must be a whole number of
    /// 256-byte units, so every part stays aligned as cuBLASLt and the GEMV expect.
    public func packRows(_ weights: [Tensor]) throws -> [Tensor] {
        guard weights.count > 1, let columns = weights.first?.shape.dims.last,
              weights.allSatisfy({ $0.dtype == .bf16 && $0.shape.rank == 2 && $0.shape[1] == columns && $0.byteCount % 256 == 0 }) else { return weights }
        let buffer = try CUDABuffer(device: device, byteCount: weights.reduce(0) { $0 + $1.byteCount })
        var offset = 0, packed: [Tensor] = []
        device.makeCurrent()
        for weight in weights {
            try device.driver.check(device.driver.cuMemcpyDtoDAsync(buffer.address + CUdeviceptr(offset), weight.address, weight.byteCount, device.stream),
                                    "cuMemcpyDtoDAsync(\(weight.byteCount) bytes)")
            packed.append(Tensor(buffer: buffer, dtype: .bf16, shape: weight.shape, byteOffset: offset))
            offset += weight.byteCount
        }
        try device.synchronize()   // the unpacked copies are freed once the caller drops them
        return packed
    }

    public func upload(_ values: [Int32], to tensor: Tensor) {
        precondition(tensor.dtype == .i32 && values.count == tensor.elementCount, "upload of \(values.count) ids into \(tensor.shape) \(tensor.dtype)")
        must { () throws(CUDAError) in try copyToDevice(values, tensor) }
    }

    public func upload(_ values: [Float], to tensor: Tensor) {
        precondition(values.count == tensor.elementCount, "upload of \(values.count) floats into \(tensor.shape)")
        switch tensor.dtype {
        case .f32: must { () throws(CUDAError) in try copyToDevice(values, tensor) }
        case .bf16: must { () throws(CUDAError) in try copyToDevice(values.map(BFloat16Conversion.fromFloat), tensor) }
        default: preconditionFailure("upload of floats into a \(tensor.dtype) tensor")
        }
    }

    public func download(_ tensor: Tensor) -> [Float] {
        switch tensor.dtype {
        case .f32: return must { () throws(CUDAError) in try copyToHost(tensor, as: Float.self) }
        case .bf16: return must { () throws(CUDAError) in try copyToHost(tensor, as: UInt16.self) }.map(BFloat16Conversion.toFloat)
        case .i32: return must { () throws(CUDAError) in try copyToHost(tensor, as: Int32.self) }.map(Float.init)
        default: preconditionFailure("download of a \(tensor.dtype) tensor")
        }
    }

    public func waitForQueuedWork() { must { () throws(CUDAError) in try device.synchronize() } }

    public func argmax(_ x: Tensor) -> [Int32] {
        let out = must { () throws(CUDAError) in try stepBuffers.scratchIndices(count: x.shape[0]) }
        argmax(x, into: out)
        return startDownload(out).wait()
    }

    public func argmax(_ x: Tensor, into out: Tensor) {
        let rows = x.shape[0], columns = x.shape[1]
        precondition(x.dtype == .f32 && out.dtype == .i32 && out.elementCount == rows, "argmax of \(x.shape) \(x.dtype) logits into \(out.shape) \(out.dtype)")
        launch(.argmax, "argmax_f32", grid: (rows, 1, 1), block: 1024) { a in
            a.add(x.address); a.add(out.address); a.add(Int32(columns))
        }
    }

    public func startDownload(_ tensor: Tensor) -> PendingTokens {
        precondition(tensor.dtype == .i32, "startDownload of a \(tensor.dtype) tensor")
        return must { () throws(CUDAError) in try readbacks.start(tensor) }
    }

    public func copyTokens(_ source: Tensor, indices: [Int32], into tokens: Tensor, rows: [Int32]) {
        precondition(source.dtype == .i32 && tokens.dtype == .i32 && indices.count == rows.count, "copyTokens of \(indices.count) indices, \(rows.count) rows")
        guard !indices.isEmpty else { return }
        precondition(zip(indices, rows).allSatisfy { $0 >= 0 && Int($0) < source.elementCount && $1 >= 0 && Int($1) < tokens.elementCount },
                     "copyTokens out of bounds")   // the kernel trusts them
        let pairs = must { () throws(CUDAError) in try stepBuffers.upload(ints: zip(indices, rows).flatMap { [$0, $1] }, "tokenPairs") }
        launch(.copyTokens, "copy_tokens", grid: (1, 1, 1), block: 256) { a in
            a.add(source.address); a.add(pairs); a.add(tokens.address); a.add(Int32(indices.count))
        }
    }

    // MARK: Steps

    public func runStep(_ batch: AttentionBatch, replayKey: StepReplayKey?, _ body: () -> Void) {
        guard let replayKey, let stepGraphs else { return body() }
        // Inputs go up before the graph runs: a recording must not hold host copies.
        must { () throws(CUDAError) in try stepBuffers.prepare(batch) }
        let key = StepGraphs.Key(step: replayKey, tableStride: stepBuffers.maxBlocks)
        must { () throws(CUDAError) in try stepGraphs.run(key, generation: stepBuffers.generation, body) }
    }

    public func discardRecordedSteps(of owner: ObjectIdentifier) { stepGraphs?.discard(owner: owner) }
    public var recordsSteps: Bool { stepGraphs != nil }

    // MARK: Sampling

    public var samplesOnDevice: Bool { true }

    public func sample(_ logits: Tensor, rows: [SamplingRow]) -> [Int32] {
        let out = must { () throws(CUDAError) in try stepBuffers.scratchIndices(count: logits.shape[0]) }
        sample(logits, rows: rows, into: out)
        return startDownload(out).wait()
    }

    public func sample(_ logits: Tensor, rows: [SamplingRow], into out: Tensor) {
        let count = logits.shape[0], vocab = logits.shape[1]
        precondition(logits.dtype == .f32 && rows.count == count && out.dtype == .i32 && out.elementCount == count,
                     "sampling \(rows.count) rows of \(logits.shape) \(logits.dtype) logits into \(out.shape) \(out.dtype)")
        // A whole batch of greedy rows needs no scratch.
        if rows.allSatisfy({ $0.temperature == 0 || $0.topK == 1 }) { return argmax(logits, into: out) }
        let parameters = rows.flatMap { [$0.temperature, Float($0.topK), $0.topP, $0.minP, Float($0.uniform)] }
        let (params, scratch) = must { () throws(CUDAError) in
            (try stepBuffers.upload(floats: parameters, "sampleParameters"), try stepBuffers.scratch("sampleScratch", bytes: count * vocab * 4, recorded: false))
        }
        launch(.sample, "sample_rows", grid: (count, 1, 1), block: 1024) { a in
            a.add(logits.address); a.add(params); a.add(scratch); a.add(out.address); a.add(Int32(vocab))
        }
    }

    public func tokenLogprobs(_ raw: Tensor, tokens: Tensor, top: Int, into out: Tensor) {
        let rows = raw.shape[0], vocab = raw.shape[1]
        precondition(raw.dtype == .f32 && tokens.dtype == .i32 && tokens.elementCount == rows && out.dtype == .i32
                     && out.elementCount == rows * TokenLogprobs.words(top: top) && top >= 0, "tokenLogprobs of \(raw.shape) into \(out.shape)")
        launch(.tokenLogprobs, "token_logprobs", grid: (rows, 1, 1), block: 1024) { a in
            a.add(raw.address); a.add(tokens.address); a.add(out.address); a.add(Int32(vocab)); a.add(Int32(top))
        }
    }

    public func editLogits(_ logits: Tensor, _ edits: [LogitEdit]) {
        guard !edits.isEmpty else { return }
        launchEdits(logits, edits, pending: [], drawn: nil)
    }

    public func editLogits(_ logits: Tensor, _ edits: [LogitEdit], pending: [PendingDraw], drawn: Tensor) {
        precondition(drawn.dtype == .i32, "drawn tokens in a \(drawn.dtype) tensor")
        guard !edits.isEmpty || !pending.isEmpty else { return }
        launchEdits(logits, edits, pending: pending, drawn: drawn)
    }

    /// edit_logits over `edits` and, with `drawn`, the rows' pending draws.
    private func launchEdits(_ logits: Tensor, _ edits: [LogitEdit], pending: [PendingDraw], drawn: Tensor?) {
        precondition(logits.dtype == .f32, "editLogits of \(logits.dtype) logits")
        let rows = logits.shape[0], vocab = logits.shape[1]
        var positions: [Int32] = [], amounts: [Float] = []
        positions.reserveCapacity(3 * edits.count)
        amounts.reserveCapacity(4 * edits.count)
        // One append per value: a batch's repetition penalties bring a step tens of thousands of edits.
        for edit in edits {
            _ = edit.index(in: logits.shape)   // bounds-checked here: the kernel trusts them
            positions.append(edit.row)
            positions.append(edit.token)
            positions.append(edit.ban ? 1 : 0)
            amounts.append(edit.bias)
            amounts.append(edit.repetition)
            amounts.append(edit.subtract)
            amounts.append(edit.subtractIfDrawn)
        }
        var drawnIndex: [Int32] = [], pendingAmounts: [Float] = []
        if let drawn, !pending.isEmpty {
            // The kernel finds a drawn token's edit by binary search.
            precondition(zip(edits, edits.dropFirst()).allSatisfy { ($0.row, $0.token) < ($1.row, $1.token) }, "edits not sorted by row, then token")
            drawnIndex = [Int32](repeating: -1, count: rows)
            pendingAmounts = [Float](repeating: 0, count: 2 * rows)
            for draw in pending {
                precondition(draw.row >= 0 && Int(draw.row) < rows && draw.sourceIndex >= 0 && Int(draw.sourceIndex) < drawn.elementCount,
                             "pending draw of row \(draw.row) from \(draw.sourceIndex) outside \(logits.shape), \(drawn.shape)")
                drawnIndex[Int(draw.row)] = draw.sourceIndex
                pendingAmounts[2 * Int(draw.row)] = draw.repetition
                pendingAmounts[2 * Int(draw.row) + 1] = draw.firstSubtract
            }
        }
        let pendingRows = drawnIndex.isEmpty ? 0 : rows
        let (positionsAddress, amountsAddress, indexAddress, pendingAddress) = must { () throws(CUDAError) in
            (edits.isEmpty ? 0 : try stepBuffers.upload(ints: positions, "editPositions"),
             edits.isEmpty ? 0 : try stepBuffers.upload(floats: amounts, "editAmounts"),
             pendingRows == 0 ? 0 : try stepBuffers.upload(ints: drawnIndex, "editDrawnIndex"),
             pendingRows == 0 ? 0 : try stepBuffers.upload(floats: pendingAmounts, "editPending"))
        }
        launch(.editLogits, "edit_logits", grid: (blocks(edits.count + pendingRows), 1, 1), block: 256) { a in
            a.add(logits.address); a.add(positionsAddress); a.add(amountsAddress); a.add(Int32(edits.count)); a.add(Int32(vocab))
            a.add(indexAddress); a.add(pendingAddress); a.add(pendingRows == 0 ? 0 : drawn!.address); a.add(Int32(pendingRows))
        }
    }

    // MARK: Transfers

    func copyToDevice<T>(_ values: [T], _ tensor: Tensor) throws(CUDAError) {
        precondition(values.count * MemoryLayout<T>.stride == tensor.byteCount, "copy of \(values.count) values into \(tensor.byteCount) bytes")
        try uploads.copy(values, to: tensor.address)
    }

    func copyToHost<T>(_ tensor: Tensor, as type: T.Type) throws(CUDAError) -> [T] {
        device.makeCurrent()
        let count = tensor.byteCount / MemoryLayout<T>.stride
        var values = [T](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        let result = values.withUnsafeMutableBytes { device.driver.cuMemcpyDtoHAsync($0.baseAddress, tensor.address, $0.count, device.stream) }
        try device.driver.check(result, "cuMemcpyDtoHAsync(\(tensor.byteCount) bytes)")
        try device.synchronize()
        return values
    }

    // MARK: Launching

    /// Runs a call that only fails when the device does (see the type's comment).
    @discardableResult
    func must<T>(_ body: () throws(CUDAError) -> T) -> T {
        do { return try body() } catch { fatalError("\(error)") }
    }

    /// Launches kernel `function` of `module` with the arguments `fill` adds; the profiler
    /// reports it under `label` (default: the function's name).
    func launch(_ module: KernelSource, _ function: String, grid: (Int, Int, Int), block: Int, sharedBytes: Int = 0,
                label: @autoclosure () -> String? = nil, _ fill: (inout KernelArguments) -> Void) {
        must { () throws(CUDAError) in
            device.makeCurrent()
            var arguments = KernelArguments()
            fill(&arguments)
            let handle = try device.function(function, module: module)
            if let profiler {
                try profiler.measure(label() ?? function) { () throws(CUDAError) in
                    try device.launch(handle, grid: grid, block: block, sharedBytes: sharedBytes, &arguments)
                }
            } else {
                try device.launch(handle, grid: grid, block: block, sharedBytes: sharedBytes, &arguments)
            }
        }
    }

    /// Blocks for a grid-stride loop over `n` elements.
    func blocks(_ n: Int, threads: Int = 256) -> Int { max(1, min((n + threads - 1) / threads, device.multiprocessors * 16)) }

    /// "bf16" or "f32": the suffix of a kernel's instance for `dtype`.
    func suffix(_ dtype: DType) -> String {
        switch dtype {
        case .bf16: "bf16"
        case .f32: "f32"
        default: preconditionFailure("no CUDA kernel for \(dtype) tensors")
        }
    }
}
