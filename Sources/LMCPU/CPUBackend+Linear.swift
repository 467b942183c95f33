import LMCPUKernels
import LMTensor

extension CPUBackend {
    /// out = x · weightᵀ + bias   x [T, K] f32, weight [N, K] (f32, f16, bf16 or a block-quantized
    /// type, dequantized on the fly), bias [N] f32, out [T, N].
    /// Work is split over a grid of token blocks x weight-row chunks; each weight row is read once
    /// per token block, so decode streams the weights exactly once.
    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor) {
        let tokens = x.shape.rows, k = x.shape.last, n = weight.shape[0]
        precondition(weight.shape.rank == 2 && weight.shape[1] == k, "linear: x \(x.shape) · weight \(weight.shape)ᵀ")
        precondition(out.shape.rows == tokens && out.shape.last == n, "linear: out \(out.shape) for [\(tokens), \(n)]")
        if let bias { precondition(bias.elementCount == n && bias.dtype == .f32, "linear: bias \(bias.shape) for \(n) rows") }
        precondition(weight.dtype.isWeightType, "linear: weight dtype \(weight.dtype)")
        let kernel = kernels.linear!, type = weight.dtype.weightType, rowBytes = Int64(weight.dtype.byteCount(elements: k))
        reserveThreadScratch(floats: Int(lm_linear_scratch_floats(Int64(k))))
        let xp = x.floats, yp = out.floats, wp = UnsafeRawPointer(weight.hostPointer)
        let bp: UnsafePointer<Float>? = bias.map { UnsafePointer($0.floats) }

        let tokenBlock = 64
        let tokenChunks = (tokens + tokenBlock - 1) / tokenBlock
        let wanted = pool.threadCount * 4
        let rowChunks = tokens * n * k < 65_536 ? 1 : max(1, min((n + 3) / 4, (wanted + tokenChunks - 1) / tokenChunks))
        let rowsPerChunk = ((n + rowChunks - 1) / rowChunks + 3) / 4 * 4
        let chunks = (n + rowsPerChunk - 1) / rowsPerChunk
        let run = { (task: Int, thread: Int) in
            let t0 = task / chunks * tokenBlock, r0 = task % chunks * rowsPerChunk
            kernel(type, xp + t0 * k, Int64(k), wp, rowBytes, bp, yp + t0 * n, Int64(n),
                   Int64(min(tokenBlock, tokens - t0)), Int64(r0), Int64(min(n, r0 + rowsPerChunk)),
                   Int64(k), self.scratch(thread: thread))
        }
        if tokenChunks * chunks == 1 || tokens * n * k < 65_536 {
            for task in 0..<(tokenChunks * chunks) { run(task, 0) }
        } else {
            pool.parallelFor(tokenChunks * chunks, run)
        }
    }
}
