import LMCPUKernels
import LMTensor

extension CPUBackend {
    /// out = x · weightᵀ + bias   x [T, K] f32, weight [N, K] (f32, f16, bf16 or a block-quantized
    /// type, dequantized on the fly), bias [N] f32, out [T, N].
    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        linear(x, projections: [Projection(weight: weight, bias: bias)], outs: [out])
    }

    /// outs[i] = x · weights[i]ᵀ + biases[i] in one dispatch. Work is split over a grid of token
    /// blocks x weight-row chunks of every projection; each weight row is read once per token
    /// block, so decode streams the weights exactly once, and a layer's q/k/v (or gate/up) cost
    /// one hand-off to the pool instead of three (or two).
    public func linear(_ x: Tensor, projections: [Projection], outs: [Tensor]) {
        precondition(projections.count == outs.count, "linear: \(projections.count) projections, \(outs.count) outputs")
        let tokens = x.shape.rows, k = x.shape.last
        var totalRows = 0
        for (projection, out) in zip(projections, outs) {
            let weight = projection.weight, n = weight.shape[0]
            precondition(weight.shape.rank == 2 && weight.shape[1] == k, "linear: x \(x.shape) · weight \(weight.shape)ᵀ")
            precondition(out.shape.rows == tokens && out.shape.last == n, "linear: out \(out.shape) for [\(tokens), \(n)]")
            precondition(weight.dtype.isWeightType, "linear: weight dtype \(weight.dtype)")
            if let bias = projection.bias { precondition(bias.elementCount == n && bias.dtype == .f32, "linear: bias \(bias.shape) for \(n) rows") }
            totalRows += n
        }
        reserveThreadScratch(floats: Int(lm_linear_scratch_floats(Int64(k))))

        // Row chunks of about totalRows / (4 x threads) rows (multiples of the 4-row panel) per
        // token block; tiny products run on the caller alone.
        let tokenBlock = 64
        let tokenChunks = (tokens + tokenBlock - 1) / tokenBlock
        let small = tokens * totalRows * k < 65_536
        let wanted = small ? 1 : max(1, (pool.threadCount * 4 + tokenChunks - 1) / tokenChunks)
        let rowsPerChunk = max(4, ((totalRows + wanted - 1) / wanted + 3) / 4 * 4)
        var chunkStarts: [Int] = []
        swap(&chunkStarts, &linearChunkStarts)   // reuse the buffer without a copy-on-write copy
        chunkStarts.removeAll(keepingCapacity: true)
        var chunksPerBlock = 0
        for projection in projections {
            chunkStarts.append(chunksPerBlock)
            chunksPerBlock += (projection.weight.shape[0] + rowsPerChunk - 1) / rowsPerChunk
        }
        chunkStarts.append(chunksPerBlock)
        let starts = chunkStarts
        defer { linearChunkStarts = chunkStarts }

        let xp = x.floats, linear = kernels.linear!
        let run = { (task: Int, thread: Int) in
            let t0 = task / chunksPerBlock * tokenBlock, chunk = task % chunksPerBlock
            var p = 0
            while starts[p + 1] <= chunk { p += 1 }
            let weight = projections[p].weight, n = weight.shape[0]
            let r0 = (chunk - starts[p]) * rowsPerChunk
            linear(weight.dtype.weightType, xp + t0 * k, Int64(k), UnsafeRawPointer(weight.hostPointer),
                   Int64(weight.dtype.byteCount(elements: k)), projections[p].bias.map { UnsafePointer($0.floats) },
                   outs[p].floats + t0 * n, Int64(n), Int64(min(tokenBlock, tokens - t0)), Int64(r0),
                   Int64(min(n, r0 + rowsPerChunk)), Int64(k), self.scratch(thread: thread))
        }
        if small {
            for task in 0..<(tokenChunks * chunksPerBlock) { run(task, 0) }
        } else {
            pool.parallelFor(tokenChunks * chunksPerBlock, run)
        }
    }
}
