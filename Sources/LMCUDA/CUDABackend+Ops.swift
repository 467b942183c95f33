import LMTensor

extension CUDABackend {
    public func gatherRows(_ source: Tensor, indices: Tensor, out: Tensor) {
        let rows = indices.elementCount, columns = source.shape[1]
        launch(.gatherRows, "gather_rows_" + suffix(source.dtype), grid: (rows, 1, 1), block: 256) { a in
            a.add(source.address); a.add(indices.address); a.add(out.address); a.add(Int32(columns))
        }
    }

    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        let rows = x.shape[0], columns = x.elementCount / max(rows, 1)
        precondition(weight.dtype == x.dtype, "rmsNorm of \(x.dtype) rows with a \(weight.dtype) weight")
        let (kernel, threads) = normKernel("rms_norm", x.dtype, columns: columns)
        launch(.rmsNorm, kernel, grid: (rows, 1, 1), block: threads) { a in
            a.add(x.address); a.add(weight.address); a.add(out.address); a.add(Int32(columns)); a.add(epsilon)
        }
    }

    public func addRMSNorm(_ residual: Tensor, _ delta: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        let rows = residual.shape[0], columns = residual.elementCount / max(rows, 1)
        precondition(weight.dtype == residual.dtype && delta.dtype == residual.dtype, "addRMSNorm of \(residual.dtype) and \(delta.dtype) rows with a \(weight.dtype) weight")
        let (kernel, threads) = normKernel("add_rms_norm", residual.dtype, columns: columns)
        launch(.rmsNorm, kernel, grid: (rows, 1, 1), block: threads) { a in
            a.add(residual.address); a.add(delta.address); a.add(weight.address); a.add(out.address); a.add(Int32(columns)); a.add(epsilon)
        }
    }

    /// A block per row: bf16 rows of up to 8,192 columns (a multiple of 8) on the `_x8` kernels, a
    /// thread per 8 columns holding them in registers (`vectorNorms`); otherwise up to 1024 threads
    /// looping over the row. Whole warps either way.
    private func normKernel(_ name: String, _ dtype: DType, columns: Int) -> (name: String, threads: Int) {
        if vectorNorms, dtype == .bf16, columns % 8 == 0, columns <= 8 * 1024 {
            return (name + "_bf16_x8", max(32, (columns / 8 + 31) / 32 * 32))
        }
        return (name + "_" + suffix(dtype), columns >= 1024 ? 1024 : max(32, (columns + 31) / 32 * 32))
    }

    public func add(_ a: Tensor, _ b: Tensor, out: Tensor) {
        let n = out.elementCount
        launch(.elementwise, "add_" + suffix(out.dtype), grid: (blocks(n), 1, 1), block: 256) { args in
            args.add(a.address); args.add(b.address); args.add(out.address); args.add(n)
        }
    }

    public func scale(_ x: Tensor, by factor: Float, out: Tensor) {
        let n = out.elementCount
        launch(.elementwise, "scale_" + suffix(out.dtype), grid: (blocks(n), 1, 1), block: 256) { a in
            a.add(x.address); a.add(out.address); a.add(factor); a.add(n)
        }
    }

    public func gatedActivation(_ activation: Activation, gate: Tensor, up: Tensor, out: Tensor) {
        let n = out.elementCount
        launch(.elementwise, "gated_" + suffix(out.dtype), grid: (blocks(n), 1, 1), block: 256) { a in
            a.add(gate.address); a.add(up.address); a.add(out.address); a.add(Int32(activation == .silu ? 0 : 1)); a.add(n)
        }
    }

    /// With gate and up packed and unbiased: for the GEMV's tokens one launch computing both rows
    /// of each output and the activation (gemv_gated; off: `PEREGRINE_CUDA_GEMV_GATED=0`); past
    /// them one GEMM into [T, 2F] and the activation reading both halves of it, with no column
    /// copies (off: `PEREGRINE_CUDA_PACKED_GATED=0`). Otherwise the two projections, then the activation.
    public func gatedLinear(_ x: Tensor, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor) {
        let tokens = x.shape[0], columns = x.shape[1], width = gate.weight.shape[0]
        if let packed = gemvGatedPacked(x, gate: gate, up: up, out: out) {
            return launchGemvGated(x, norm: nil, packed: packed, activation: activation, out: out)
        }
        if packedGatedLinear, gate.bias == nil, up.bias == nil, out.dtype == .bf16, !usesGEMV(tokens: tokens, columns: columns),
           tokens <= 512, let packed = packedMatrix([gate.weight, up.weight]) {
            let both = must { () throws(CUDAError) in try stepBuffers.scratchTensor("packedOut", shape: Shape(tokens, 2 * width), dtype: .bf16) }
            linear(x, weight: packed, bias: nil, out: both)
            launch(.elementwise, "gated_packed_bf16", grid: (blocks(tokens * width), 1, 1), block: 256) { a in
                a.add(both.address); a.add(out.address); a.add(Int32(activation == .silu ? 0 : 1)); a.add(tokens); a.add(Int32(width))
            }
            return
        }
        composedGatedLinear(x, gate: gate, up: up, activation: activation, out: out, scratch: scratch)
    }

    /// The packed gate/up matrix when gemv_gated applies: unbiased, packed in one buffer, a bf16
    /// output, the GEMV's tokens.
    func gemvGatedPacked(_ x: Tensor, gate: Projection, up: Projection, out: Tensor) -> Tensor? {
        guard gemvGated, gate.bias == nil, up.bias == nil, out.dtype == .bf16, usesGEMV(tokens: x.shape[0], columns: x.shape[1]) else { return nil }
        return packedMatrix([gate.weight, up.weight])
    }

    /// gemv_gated (gemv.cu) over the packed gate/up matrix [2F, K]; with `norm`, x is its
    /// residual, normed by every block into shared memory first (gemv_gated_normed; see `fitsNormedGEMV`).
    func launchGemvGated(_ x: Tensor, norm: ResidualNorm?, packed: Tensor, activation: Activation, out: Tensor) {
        let tokens = x.shape[0], columns = x.shape[1], width = packed.shape[0] / 2
        let blocks = max(1, min((width + 7) / 8, device.multiprocessors * 16))
        let function = norm != nil ? "gemv_gated_normed" : gemvKernel("gemv_gated", tokens: tokens)
        launch(.gemv, function, grid: (blocks, 1, 1), block: 256,
               sharedBytes: norm == nil ? 0 : tokens * columns * 2,
               label: "gemv gated\(norm == nil ? "" : " normed") T\(tokens) N\(2 * width) K\(columns)") { a in
            a.add(x.address)
            if let norm { a.add(norm.weight.address); a.add(norm.epsilon) }
            a.add(packed.address); a.add(out.address); a.add(Int32(activation == .silu ? 0 : 1))
            a.add(Int32(tokens)); a.add(Int32(width)); a.add(Int32(columns))
        }
    }

    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        precondition(x.dtype == .bf16 && weight.dtype == .bf16, "linear of \(x.dtype) by \(weight.dtype)")
        let tokens = x.shape[0], columns = x.shape[1], rows = weight.shape[0]
        if usesGEMV(tokens: tokens, columns: columns) {
            let (split, blocks) = gemvGrid(rows: rows, columns: columns)
            launch(.gemv, gemvKernel("gemv_\(suffix(out.dtype))_s\(split)", tokens: tokens), grid: (blocks, 1, 1), block: 256, label: "gemv T\(tokens) N\(rows) K\(columns)") { a in
                a.add(x.address); a.add(weight.address); a.add(out.address); a.add(Int32(tokens)); a.add(Int32(rows)); a.add(Int32(columns))
            }
        } else if usesSkinnyGEMM(tokens: tokens, rows: rows, columns: columns, output: out.dtype) {
            skinnyLinear(x, weight: weight, out: out)
        } else {
            gemm(x, weight: weight, out: out)
        }
        if let bias { addBias(bias, to: out) }
    }

    /// out = x · weightᵀ (+ out with `accumulate`) on cuBLASLt, timed alone under the profiler.
    func gemm(_ x: Tensor, weight: Tensor, out: Tensor, accumulate: Bool = false) {
        must { () throws(CUDAError) in
            device.makeCurrent()
            if let profiler {
                try profiler.measure("gemm\(accumulate ? " add" : "") T\(x.shape[0]) N\(weight.shape[0]) K\(x.shape[1])") { () throws(CUDAError) in
                    try matmul.multiply(x, weight: weight, out: out, accumulate: accumulate)
                }
            } else {
                try matmul.multiply(x, weight: weight, out: out, accumulate: accumulate)
            }
        }
    }

    /// 2 to 64 tokens into bf16, K a multiple of 128 and N of 16, when `skinnyGEMM` is on.
    func usesSkinnyGEMM(tokens: Int, rows: Int, columns: Int, output: DType) -> Bool {
        skinnyGEMM && (2...64).contains(tokens) && output == .bf16 && columns % 128 == 0 && rows % 16 == 0
    }

    /// out = x · weightᵀ on skinny_gemm.cu: blocks of 128 rows, split over K until there are
    /// about two blocks per multiprocessor (each split keeping at least 4 chunks of 128), the
    /// splits' f32 partials then summed by skinny_gemm_reduce.
    private func skinnyLinear(_ x: Tensor, weight: Tensor, out: Tensor) {
        let tokens = x.shape[0], columns = x.shape[1], rows = weight.shape[0]
        let rowBlocks = (rows + 127) / 128, chunks = columns / 128
        var splits = 1
        while rowBlocks * splits < 2 * device.multiprocessors, chunks / (splits * 2) >= 4 { splits *= 2 }
        let perSplit = (chunks + splits - 1) / splits
        let tile = [8, 16, 32, 64].first { tokens <= $0 }!
        let partial: CUdeviceptr = splits == 1 ? out.address
            : must { () throws(CUDAError) in try stepBuffers.scratch("skinnyPartial", bytes: splits * tokens * rows * 4) }
        launch(.skinnyGEMM, "skinny_gemm_t\(tile)", grid: (rowBlocks, splits, 1), block: 256, label: "skinny gemm T\(tokens) N\(rows) K\(columns)") { a in
            a.add(x.address); a.add(weight.address); a.add(out.address); a.add(partial)
            a.add(Int32(tokens)); a.add(Int32(rows)); a.add(Int32(columns)); a.add(Int32(perSplit))
        }
        guard splits > 1 else { return }
        launch(.skinnyGEMM, "skinny_gemm_reduce", grid: (blocks(tokens * rows), 1, 1), block: 256) { a in
            a.add(partial); a.add(out.address); a.add(Int32(splits)); a.add(tokens * rows)
        }
    }

    /// A single token: one pass over the weights with our GEMV beats a GEMM tile (`gemvMaxTokens`),
    /// unless its rows are long (`gemvMaxColumns`).
    func usesGEMV(tokens: Int, columns: Int) -> Bool { tokens <= gemvMaxTokens && columns % 8 == 0 && columns <= gemvMaxColumns }

    private func addBias(_ bias: Tensor, to out: Tensor) {
        let rows = out.shape[0], columns = out.shape[1]
        launch(.bias, "add_bias_" + suffix(out.dtype), grid: (blocks(rows * columns), 1, 1), block: 256) { a in
            a.add(out.address); a.add(bias.address); a.add(rows); a.add(Int32(columns))
        }
    }

    /// The GEMV kernel `name` or, for one token, its one-token instance `name_one` (one sum a
    /// lane; `gemvOneToken`).
    func gemvKernel(_ name: String, tokens: Int) -> String { gemvOneToken && tokens == 1 ? name + "_one" : name }

    /// Warps per GEMV row (enough that a matrix of few rows still has about 120 row segments per
    /// multiprocessor to stream, while every warp keeps four 16-byte loads per lane in flight)
    /// and blocks of 8 warps covering every row in one round, at most 16 per multiprocessor.
    /// On an H200 (`bench linear --tokens 1`, each split forced) this picks the fastest split of
    /// every Llama-3-8B shape: 4 for q/k/v, o and down (down 39.1 -> 33.8 µs against the old
    /// 48-segment rule's 2), 1 for gate/up and the LM head.
    func gemvGrid(rows: Int, columns: Int) -> (split: Int, blocks: Int) {
        var split = 1
        if let gemvSplitOverride {
            split = gemvSplitOverride
        } else {
            while split < 8, rows * split < 120 * device.multiprocessors, columns / 8 / (split * 2) >= 128 { split *= 2 }
        }
        let rowsPerBlock = 8 / split
        return (split, max(1, min((rows + rowsPerBlock - 1) / rowsPerBlock, device.multiprocessors * 16)))
    }

    /// Packed projections (see `packRows`) past the GEMV's single token run as one GEMM into a
    /// scratch [T, ΣN], whose columns are then copied out: one large GEMM streams the weights
    /// faster than three skinny ones (cuBLASLt is slowest on the narrow k/v shapes). Long prompt
    /// chunks are compute-bound, where the copy would only add traffic: they run separately.
    public func linear(_ x: Tensor, projections: [Projection], outs: [Tensor]) {
        let tokens = x.shape[0], columns = x.shape[1]
        let packed = packedMatrix(projections.map(\.weight))
        if let packed, usesGEMV(tokens: tokens, columns: columns), packedGEMV, projections.count <= 3, outs.allSatisfy({ $0.dtype == .bf16 }) {
            // One GEMV launch over the packed rows, each row range stored into its own output.
            let rows = packed.shape[0], (split, blocks) = gemvGrid(rows: rows, columns: columns)
            let widths = projections.map { $0.weight.shape[0] }
            let end0 = widths[0], end1 = widths.count > 2 ? end0 + widths[1] : rows
            launch(.gemv, gemvKernel("gemv_packed_s\(split)", tokens: tokens), grid: (blocks, 1, 1), block: 256, label: "gemv T\(tokens) N\(widths.map(String.init).joined(separator: "+")) K\(columns)") { a in
                a.add(x.address); a.add(packed.address)
                for i in 0..<3 { a.add(outs[min(i, outs.count - 1)].address) }
                a.add(Int32(end0)); a.add(Int32(end1)); a.add(Int32(tokens)); a.add(Int32(rows)); a.add(Int32(columns))
            }
            for (projection, out) in zip(projections, outs) { if let bias = projection.bias { addBias(bias, to: out) } }
            return
        }
        guard !usesGEMV(tokens: tokens, columns: columns), tokens <= 512, let packed,
              outs.allSatisfy({ $0.dtype == .bf16 }), projections.allSatisfy({ $0.weight.shape[0] % 8 == 0 }) else {
            for (projection, out) in zip(projections, outs) { linear(x, weight: projection.weight, bias: projection.bias, out: out) }
            return
        }
        let total = packed.shape[0]
        let scratch = must { () throws(CUDAError) in try stepBuffers.scratchTensor("packedOut", shape: Shape(tokens, total), dtype: .bf16) }
        linear(x, weight: packed, bias: nil, out: scratch)
        var offset = 0
        for (projection, out) in zip(projections, outs) {
            let width = projection.weight.shape[0]
            launch(.copyColumns, "copy_columns_bf16", grid: (blocks(tokens * width / 8), 1, 1), block: 256) { a in
                a.add(scratch.address); a.add(out.address); a.add(Int32(tokens)); a.add(Int32(total)); a.add(Int32(offset)); a.add(Int32(width))
            }
            if let bias = projection.bias { addBias(bias, to: out) }
            offset += width
        }
    }

    /// The weights as one [ΣN, K] matrix when `packRows` stored them back to back.
    func packedMatrix(_ weights: [Tensor]) -> Tensor? {
        guard weights.count > 1, let first = weights.first, first.dtype == .bf16 else { return nil }
        var end = first.byteOffset
        for weight in weights {
            guard weight.buffer === first.buffer, weight.dtype == .bf16, weight.shape[1] == first.shape[1], weight.byteOffset == end else { return nil }
            end += weight.byteCount
        }
        return Tensor(buffer: first.buffer, dtype: .bf16, shape: Shape(weights.reduce(0) { $0 + $1.shape[0] }, first.shape[1]), byteOffset: first.byteOffset)
    }

    public func ropeAngles(positions: Tensor, inverseFrequencies: Tensor, cos: Tensor, sin: Tensor) {
        let tokens = positions.elementCount, half = inverseFrequencies.elementCount
        launch(.rope, "rope_angles", grid: (blocks(tokens * half), 1, 1), block: 256) { a in
            a.add(positions.address); a.add(inverseFrequencies.address); a.add(cos.address); a.add(sin.address)
            a.add(Int32(tokens)); a.add(Int32(half))
        }
    }

    public func rope(_ x: Tensor, cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle) {
        let tokens = x.shape[0], heads = x.shape[1], dim = x.shape[2]
        let n = tokens * heads * rotaryDim / 2
        launch(.rope, "rope_" + suffix(x.dtype), grid: ((n + 255) / 256, 1, 1), block: 256) { a in
            a.add(x.address); a.add(cos.address); a.add(sin.address)
            a.add(Int32(tokens)); a.add(Int32(heads)); a.add(Int32(dim)); a.add(Int32(rotaryDim)); a.add(Int32(style == .neox ? 0 : 1))
        }
    }

    public func writeKV(key: Tensor, value: Tensor, cache: LayerKVCache, batch: AttentionBatch) {
        must { () throws(CUDAError) in try stepBuffers.prepare(batch) }
        let tokens = key.shape[0], width = key.elementCount / max(tokens, 1)
        let slots = stepBuffers.tensor("slots", count: tokens)
        launch(.writeKV, "write_kv_" + suffix(key.dtype), grid: (tokens, 1, 1), block: 256) { a in
            a.add(key.address); a.add(value.address); a.add(cache.key.address); a.add(cache.value.address); a.add(slots.address); a.add(Int32(width))
        }
    }

    /// One launch for both rotations and the cache write (unless `PEREGRINE_CUDA_FUSED_ROPE_KV=0`), else the three ops.
    public func ropeWriteKV(query: Tensor, key: Tensor, value: Tensor, cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle,
                            cache: LayerKVCache, batch: AttentionBatch) {
        guard fusedRopeWriteKV, query.dtype == key.dtype, key.dtype == value.dtype, cache.key.dtype == key.dtype else {
            rope(query, cos: cos, sin: sin, rotaryDim: rotaryDim, style: style)
            rope(key, cos: cos, sin: sin, rotaryDim: rotaryDim, style: style)
            return writeKV(key: key, value: value, cache: cache, batch: batch)
        }
        let qHeads = query.shape[1], kvHeads = key.shape[1], dim = key.shape[2]
        launchRopeWriteKV(queries: query.address, keys: key.address, values: value.address, queryStride: qHeads * dim, kvStride: kvHeads * dim,
                          biases: [nil, nil, nil], query: query, rotatedKeys: key.address, shape: (query.shape[0], qHeads, kvHeads, dim),
                          cos: cos, sin: sin, rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
    }

    /// With the projections packed: for the GEMV's tokens one GEMV whose epilogue rotates and
    /// writes the cache (`gemvRopeWriteKV`); past them one GEMM into [T, (Hq + 2 Hkv) D] and the
    /// fused RoPE + cache write reading its heads in place (biases added there), so no column
    /// copies. Otherwise the projections, then `ropeWriteKV`.
    public func projectRopeWriteKV(_ x: Tensor, projections: [Projection], query: Tensor, key: Tensor, value: Tensor, cos: Tensor, sin: Tensor,
                                   rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        let tokens = x.shape[0], qHeads = query.shape[1], kvHeads = key.shape[1], dim = key.shape[2]
        if gemvRopeWriteKV, let packed = gemvRopePacked(x, projections: projections, query: query, key: key, rotaryDim: rotaryDim, cache: cache) {
            return launchGemvRopeWriteKV(x, norm: nil, packed: packed, biases: projections.map(\.bias), query: query, heads: (qHeads, kvHeads, dim),
                                         cos: cos, sin: sin, rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
        }
        guard fusedRopeWriteKV, query.dtype == .bf16, cache.key.dtype == .bf16,
              let heads = packedHeads(x, projections: projections, query: query, key: key) else {
            return composedProjectRopeWriteKV(x, projections: projections, query: query, key: key, value: value, cos: cos, sin: sin,
                                              rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
        }
        launchRopeWriteKV(queries: heads.queries, keys: heads.keys, values: heads.values, queryStride: heads.stride, kvStride: heads.stride,
                          biases: heads.biases, query: query, rotatedKeys: 0, shape: (tokens, qHeads, kvHeads, dim),
                          cos: cos, sin: sin, rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
    }

    /// The packed q/k/v matrix when gemv_rope_kv applies: bf16 throughout, the GEMV's tokens,
    /// q/k/v of Hq and Hkv heads of an even dim packed in one buffer, an even rotary dim.
    func gemvRopePacked(_ x: Tensor, projections: [Projection], query: Tensor, key: Tensor, rotaryDim: Int, cache: LayerKVCache) -> Tensor? {
        let tokens = x.shape[0], qHeads = query.shape[1], kvHeads = key.shape[1], dim = key.shape[2]
        guard fusedRopeWriteKV, packedGEMV, usesGEMV(tokens: tokens, columns: x.shape[1]), x.dtype == .bf16, query.dtype == .bf16,
              cache.key.dtype == .bf16, cache.value.dtype == .bf16, dim % 2 == 0, rotaryDim % 2 == 0, rotaryDim <= dim, projections.count == 3,
              projections.map({ $0.weight.shape[0] }) == [qHeads * dim, kvHeads * dim, kvHeads * dim],
              projections.allSatisfy({ $0.bias.map { $0.dtype == .bf16 } ?? true }) else { return nil }
        return packedMatrix(projections.map(\.weight))
    }

    /// The new tokens' unrotated q/k/v heads for the fused rotation, past the GEMV's tokens with
    /// the projections packed: one GEMM into [T, (Hq + 2 Hkv) D], read in place (biases still to
    /// add). nil: packed bf16 projections do not apply.
    private func packedHeads(_ x: Tensor, projections: [Projection], query: Tensor, key: Tensor)
        -> (queries: CUdeviceptr, keys: CUdeviceptr, values: CUdeviceptr, stride: Int, biases: [Tensor?])? {
        let tokens = x.shape[0], qHeads = query.shape[1], kvHeads = key.shape[1], dim = key.shape[2]
        guard !usesGEMV(tokens: tokens, columns: x.shape[1]), tokens <= 512, projections.count == 3,
              projections.allSatisfy({ $0.bias.map { $0.dtype == .bf16 } ?? true }), let packed = packedMatrix(projections.map(\.weight)) else {
            return nil
        }
        let width = packed.shape[0]
        let both = must { () throws(CUDAError) in try stepBuffers.scratchTensor("packedOut", shape: Shape(tokens, width), dtype: .bf16) }
        linear(x, weight: packed, bias: nil, out: both)
        return (both.address, both.address + CUdeviceptr(qHeads * dim * 2), both.address + CUdeviceptr((qHeads + kvHeads) * dim * 2),
                width, projections.map(\.bias))
    }

    /// gemv_rope_kv (gemv.cu): the packed q/k/v rows in rotation pairs, a pair's rows on one
    /// block (split at most 4 so a block holds whole pairs), the rotated queries into `query` and
    /// the keys and values into the cache. With `norm`, x is its residual, normed by every block
    /// into shared memory first (gemv_rope_kv_normed; see `fitsNormedGEMV`).
    func launchGemvRopeWriteKV(_ x: Tensor, norm: ResidualNorm?, packed: Tensor, biases: [Tensor?], query: Tensor, heads: (q: Int, kv: Int, dim: Int),
                               cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        must { () throws(CUDAError) in try stepBuffers.prepare(batch) }
        let tokens = x.shape[0], columns = x.shape[1], rows = packed.shape[0]
        let slots = stepBuffers.tensor("slots", count: tokens)
        let split = min(4, gemvGrid(rows: rows, columns: columns).split), pairsPerBlock = 8 / split / 2
        let blocks = max(1, min((rows / 2 + pairsPerBlock - 1) / pairsPerBlock, device.multiprocessors * 16))
        let kernel = norm != nil ? "gemv_rope_kv_normed_s\(split)" : gemvKernel("gemv_rope_kv_s\(split)", tokens: tokens)
        launch(.gemv, kernel, grid: (blocks, 1, 1), block: 256, sharedBytes: norm == nil ? 0 : tokens * columns * 2,
               label: "gemv rope kv\(norm == nil ? "" : " normed") T\(tokens) N\(rows) K\(columns)") { a in
            a.add(x.address)
            if let norm { a.add(norm.weight.address); a.add(norm.epsilon) }
            a.add(packed.address)
            for bias in biases { a.add(bias?.address ?? 0) }
            a.add(query.address); a.add(cache.key.address); a.add(cache.value.address)
            a.add(cos.address); a.add(sin.address); a.add(slots.address)
            a.add(Int32(tokens)); a.add(Int32(columns)); a.add(Int32(heads.q)); a.add(Int32(heads.kv)); a.add(Int32(heads.dim))
            a.add(Int32(rotaryDim)); a.add(Int32(style == .neox ? 0 : 1))
        }
    }

    /// rope_write_kv.cu over heads read at the given addresses and token strides (elements);
    /// `rotatedKeys` 0 leaves the rotated keys in the cache only.
    private func launchRopeWriteKV(queries: CUdeviceptr, keys: CUdeviceptr, values: CUdeviceptr, queryStride: Int, kvStride: Int,
                                   biases: [Tensor?], query: Tensor, rotatedKeys: CUdeviceptr, shape: (tokens: Int, qHeads: Int, kvHeads: Int, dim: Int),
                                   cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        must { () throws(CUDAError) in try stepBuffers.prepare(batch) }
        let slots = stepBuffers.tensor("slots", count: shape.tokens)
        let threads = min(128, max(32, (rotaryDim / 2 + 31) / 32 * 32))
        launch(.ropeWriteKV, "rope_write_kv_" + suffix(query.dtype), grid: (shape.tokens, shape.qHeads + shape.kvHeads, 1), block: threads) { a in
            a.add(queries); a.add(keys); a.add(values); a.add(queryStride); a.add(kvStride)
            for bias in biases { a.add(bias?.address ?? 0) }
            a.add(query.address); a.add(rotatedKeys); a.add(cache.key.address); a.add(cache.value.address)
            a.add(cos.address); a.add(sin.address); a.add(slots.address)
            a.add(Int32(shape.qHeads)); a.add(Int32(shape.kvHeads)); a.add(Int32(shape.dim)); a.add(Int32(rotaryDim))
            a.add(Int32(style == .neox ? 0 : 1))
        }
    }

    /// Split-K decode attention over the step's decode tokens, then the combine into `out`.
    private func decodeAttention(query: Tensor, tokens: Int, qHeads: Int, kvHeads: Int, dim: Int, cache: LayerKVCache,
                                 scale: Float, window: Int32, out: Tensor) {
        let dtype = query.dtype
        let inputs = stepBuffers, n = inputs.decodeCount, blockSize = cache.key.shape[1], type = suffix(dtype)
        let positions = inputs.tensor("positions", count: tokens).address, tokenTables = inputs.tensor("tokenTables", count: tokens).address
        let tables = inputs.tensor("blockTables", count: 1).address
        // Enough splits for about 8 blocks per multiprocessor (`decodeBlocksPerSM`; each warp's
        // chain of dependent key loads is short), no more than the longest table could fill with
        // 64 keys each; each sequence uses as many as give it 64 keys or more. The grid depends
        // on n and the table stride alone, so a recorded step replays at any context within the stride.
        let minChunk = 64
        let splits = max(1, min((inputs.maxBlocks * blockSize + minChunk - 1) / minChunk,
                                (decodeBlocksPerSM * device.multiprocessors + n * kvHeads - 1) / (n * kvHeads)))
        let partials = n * qHeads * splits
        let (partOut, partMax, partSum) = must { () throws(CUDAError) in
            (try stepBuffers.scratch("partOut", bytes: partials * dim * 4), try stepBuffers.scratch("partMax", bytes: partials * 4),
             try stepBuffers.scratch("partSum", bytes: partials * 4))
        }
        let rows = inputs.tensor("decodeRows", count: n).address
        // Tensor cores where the instances cover the heads (4 warps, each a ring of stages of 16
        // keys and 16 values in rows of D + 8); otherwise the CUDA-core kernel, specialized where
        // D = 32 · (dims per lane) exactly. Both take the same arguments.
        let kernel: (module: KernelSource, name: String, sharedBytes: Int)
        if let stages = tensorCoreDecodeStages, dtype == .bf16, cache.key.dtype == .bf16, dim == 64 || dim == 128 {
            kernel = (.pagedDecodeMMA, "paged_decode_mma_d\(dim)_s\(stages)", 4 * stages * 2 * 16 * (dim + 8) * 2)
        } else {
            let specialized = "paged_decode_\(type)_g\(qHeads / kvHeads)_d\((dim + 31) / 32)"
            kernel = (.pagedDecode, dim % 32 == 0 && KernelSource.pagedDecode.functions.contains(specialized) ? specialized : "paged_decode_" + type, 0)
        }
        launch(kernel.module, kernel.name, grid: (n, kvHeads, splits), block: 128, sharedBytes: kernel.sharedBytes) { a in
            a.add(query.address); a.add(cache.key.address); a.add(cache.value.address); a.add(rows)
            a.add(positions); a.add(tokenTables); a.add(tables); a.add(Int32(inputs.maxBlocks))
            a.add(Int32(qHeads)); a.add(Int32(kvHeads)); a.add(Int32(dim)); a.add(Int32(blockSize)); a.add(scale); a.add(window)
            a.add(Int32(minChunk)); a.add(partOut); a.add(partMax); a.add(partSum)
        }
        launch(.pagedDecode, "decode_combine_" + type, grid: (n, qHeads, 1), block: min(256, (dim + 31) / 32 * 32)) { a in
            a.add(partOut); a.add(partMax); a.add(partSum); a.add(rows); a.add(positions); a.add(window); a.add(Int32(minChunk))
            a.add(out.address); a.add(Int32(qHeads)); a.add(Int32(dim)); a.add(Int32(splits))
        }
    }

    /// Decode tokens go to the split-K kernel (then a combine), prefill chunks to the tiled one.
    public func attention(query: Tensor, cache: LayerKVCache, batch: AttentionBatch, scale: Float, slidingWindow: Int?, out: Tensor) {
        must { () throws(CUDAError) in try stepBuffers.prepare(batch) }
        let tokens = query.shape[0], qHeads = query.shape[1], dim = query.shape[2]
        let kvHeads = cache.key.shape[2], blockSize = cache.key.shape[1]
        precondition(dim <= 256 && dim % 4 == 0 && qHeads / kvHeads <= 8,
                     "CUDA attention supports head dims up to 256 (multiples of 4) and up to 8 query heads per KV head")
        let inputs = stepBuffers, type = suffix(query.dtype), window = Int32(slidingWindow ?? 0)
        let positions = inputs.tensor("positions", count: tokens).address, tokenTables = inputs.tensor("tokenTables", count: tokens).address
        let tables = inputs.tensor("blockTables", count: 1).address
        if inputs.decodeCount > 0 {
            decodeAttention(query: query, tokens: tokens, qHeads: qHeads, kvHeads: kvHeads, dim: dim, cache: cache,
                            scale: scale, window: window, out: out)
        }
        if inputs.tileCount > 0 {
            let tiles = inputs.tensor("tiles", count: 2 * inputs.tileCount).address
            if tensorCorePrefill, query.dtype == .bf16, cache.key.dtype == .bf16, dim == 64 || dim == 128 {
                launch(.pagedPrefillMMA, "paged_prefill_mma_d\(dim)", grid: (inputs.tileCount, qHeads, 1), block: 64) { a in
                    a.add(query.address); a.add(cache.key.address); a.add(cache.value.address); a.add(out.address); a.add(tiles)
                    a.add(positions); a.add(tokenTables); a.add(tables); a.add(Int32(inputs.maxBlocks))
                    a.add(Int32(qHeads)); a.add(Int32(kvHeads)); a.add(Int32(blockSize)); a.add(scale); a.add(window)
                }
                return
            }
            let shared = (2 * 32 * (dim + 4) + 32 * dim + 32 * 32) * 4
            let specialized = "paged_prefill_\(type)_d\(dim)"
            let prefillKernel = KernelSource.pagedPrefill.functions.contains(specialized) ? specialized : "paged_prefill_" + type
            launch(.pagedPrefill, prefillKernel, grid: (inputs.tileCount, qHeads, 1), block: 128, sharedBytes: shared) { a in
                a.add(query.address); a.add(cache.key.address); a.add(cache.value.address); a.add(out.address); a.add(tiles)
                a.add(positions); a.add(tokenTables); a.add(tables); a.add(Int32(inputs.maxBlocks))
                a.add(Int32(qHeads)); a.add(Int32(kvHeads)); a.add(Int32(dim)); a.add(Int32(blockSize)); a.add(scale); a.add(window)
            }
        }
    }
}
