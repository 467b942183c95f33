import LMTensor

/// The fused residual-norm schedule (`Backend.fusesResidualNorms`) on our GEMVs: a layer's
/// residual adds in the epilogues of its output GEMVs (gemv_add) and its norms in the prologues
/// of its input GEMVs (gemv_rope_kv_normed, gemv_gated_normed), so a decode step of a few tokens
/// launches no norm kernel between the embedding and the final norm. Each fused op falls back to
/// its parts where its GEMV does not apply, so the ops are correct for any input; the schedule
/// itself is taken only under `fusedResidualNorms`.
extension CUDABackend {
    public func fusesResidualNorms(tokens: Int) -> Bool {
        fusedResidualNorms && vectorNorms && tokens <= gemvMaxTokens
    }

    /// residual += x · weightᵀ (+ bias) on gemv_add for the GEMV's tokens (unbiased, bf16), the
    /// linear's output rounded to bf16 before the add as the unfused pair rounds it. Rows too long
    /// for the GEMV (`gemvMaxColumns`) accumulate on cuBLASLt instead (beta = 1, one
    /// rounding: not bit-identical to the pair) unless `PEREGRINE_CUDA_GEMM_ACCUMULATE=0`.
    public func addLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor, scratch: Tensor) {
        let tokens = x.shape[0], columns = x.shape[1], rows = weight.shape[0]
        guard bias == nil, x.dtype == .bf16, weight.dtype == .bf16, residual.dtype == .bf16, residual.shape == Shape(tokens, rows) else {
            return composedAddLinear(x, weight: weight, bias: bias, residual: residual, scratch: scratch)
        }
        guard usesGEMV(tokens: tokens, columns: columns) else {
            if gemmAccumulate && !usesSkinnyGEMM(tokens: tokens, rows: rows, columns: columns, output: .bf16) {
                return gemm(x, weight: weight, out: residual, accumulate: true)
            }
            return composedAddLinear(x, weight: weight, bias: bias, residual: residual, scratch: scratch)
        }
        let (split, blocks) = gemvGrid(rows: rows, columns: columns)
        launch(.gemv, "gemv_add_s\(split)", grid: (blocks, 1, 1), block: 256, label: "gemv add T\(tokens) N\(rows) K\(columns)") { a in
            a.add(x.address); a.add(weight.address); a.add(residual.address); a.add(Int32(tokens)); a.add(Int32(rows)); a.add(Int32(columns))
        }
    }

    public func normedGatedLinear(_ input: ResidualNorm, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor) {
        guard fitsNormedGEMV(input), let packed = gemvGatedPacked(input.residual, gate: gate, up: up, out: out) else {
            return composedNormedGatedLinear(input, gate: gate, up: up, activation: activation, out: out, scratch: scratch)
        }
        launchGemvGated(input.residual, norm: input, packed: packed, activation: activation, out: out)
    }

    public func normedProjectRopeWriteKV(_ input: ResidualNorm, projections: [Projection], query: Tensor, key: Tensor, value: Tensor, cos: Tensor,
                                         sin: Tensor, rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        let x = input.residual
        guard fitsNormedGEMV(input),
              let packed = gemvRopePacked(x, projections: projections, query: query, key: key, rotaryDim: rotaryDim, cache: cache) else {
            return composedNormedProjectRopeWriteKV(input, projections: projections, query: query, key: key, value: value, cos: cos, sin: sin,
                                                    rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
        }
        launchGemvRopeWriteKV(x, norm: input, packed: packed, biases: projections.map(\.bias), query: query,
                              heads: (query.shape[1], key.shape[1], key.shape[2]), cos: cos, sin: sin, rotaryDim: rotaryDim, style: style,
                              cache: cache, batch: batch)
    }

    /// Whether every block of a normed GEMV can norm the input rows into its shared memory: bf16
    /// rows of at most 8,192 columns (a multiple of 8, as the one-pass norm kernel it reproduces
    /// takes), all of them within 40 KB (the 48 KB a block gets without opting in, less the
    /// kernels' own).
    func fitsNormedGEMV(_ input: ResidualNorm) -> Bool {
        let tokens = input.residual.shape[0], columns = input.residual.shape[1]
        return vectorNorms && input.residual.dtype == .bf16 && input.weight.dtype == .bf16 && columns % 8 == 0 && columns <= 8192
            && tokens * columns * 2 <= 40 * 1024
    }
}
