import LMTensor

/// Checks a backend's ops against a reference backend (the CPU) on fresh random inputs at
/// several shapes, as llama.cpp's test-backend-ops does: both get identical inputs (rounded to
/// the candidate's activation dtype first), the candidate's outputs are poisoned (NaN) before
/// each op so unwritten elements fail, and outputs are compared by relative L2 error within a
/// bound for the candidate's dtype (bf16: 1e-2, f32: 1e-4).
public struct BackendConformance {
    public let reference: any Backend
    public let candidate: any Backend
    var random: ConformanceRandom

    public init(reference: any Backend, candidate: any Backend, seed: UInt64 = 1) {
        self.reference = reference
        self.candidate = candidate
        random = ConformanceRandom(state: seed)
    }

    var bound: Double { candidate.activationDType == .f32 ? 1e-4 : 1e-2 }

    /// Runs every case; never stops at the first failure.
    public mutating func run() throws -> [ConformanceResult] {
        var results: [ConformanceResult] = []
        for (rows, columns) in [(1, 64), (7, 576), (33, 4096)] {
            results.append(try gatherRows(rows: rows, columns: columns))
            results.append(try rmsNorm(rows: rows, columns: columns))
            results.append(contentsOf: try addRMSNorm(rows: rows, columns: columns))
            results.append(try elementwise(rows: rows, columns: columns))
            results.append(contentsOf: try gated(rows: rows, columns: columns))
        }
        // The last two (one token: CUDA's GEMV): rows shared by 4 warps (and an odd row left over
        // in the last block); 3 and 8 tokens run them too under PEREGRINE_CUDA_GEMV_MAX_TOKENS=8.
        for (t, k, n, bias) in [(1, 64, 96, false), (5, 576, 192, true), (64, 1024, 4096, false), (17, 4096, 512, true),
                                (1, 4096, 1003, false), (1, 8192, 257, true), (3, 4096, 1003, false), (8, 8192, 257, true)] {
            results.append(try linear(tokens: t, inputs: k, outputs: n, bias: bias, output: candidate.activationDType))
        }
        results.append(try linear(tokens: 3, inputs: 576, outputs: 4999, bias: false, output: .f32))
        // One token: a row of 96 16-byte vectors (3 per lane), and into f32 as an LM head is.
        results.append(try linear(tokens: 1, inputs: 768, outputs: 333, bias: false, output: candidate.activationDType))
        results.append(try linear(tokens: 1, inputs: 512, outputs: 4999, bias: false, output: .f32))
        // Shapes for CUDA's tensor-core skinny GEMM (PEREGRINE_CUDA_SKINNY_GEMM=1; 64 x 1024 x 4096
        // and 17 x 4096 x 512 above split K): one split with a ragged last block of rows, and 33
        // tokens (the 64-token instance, its rows past 33 repeating the last and never stored)
        // over four splits.
        results.append(try linear(tokens: 2, inputs: 512, outputs: 208, bias: true, output: candidate.activationDType))
        results.append(try linear(tokens: 33, inputs: 2048, outputs: 1040, bias: false, output: candidate.activationDType))
        for tokens in [1, 6, 20] {
            results.append(try projections(tokens: tokens, inputs: 512, outputs: [512, 128, 128], biased: [true, false, true]))
        }
        // Packed: three row ranges of one GEMV shared by 4 warps a row, two ranges, and one GEMM
        // (2 and 3 tokens: one GEMM and its column copies, by default).
        results.append(try projections(tokens: 1, inputs: 4096, outputs: [1024, 256, 256], biased: [false, true, false]))
        results.append(try projections(tokens: 1, inputs: 1024, outputs: [2048, 2048], biased: [false, false]))
        results.append(try projections(tokens: 3, inputs: 4096, outputs: [1024, 256, 256], biased: [false, true, false]))
        results.append(try projections(tokens: 2, inputs: 1024, outputs: [2048, 2048], biased: [false, false]))
        results.append(try projections(tokens: 64, inputs: 1024, outputs: [2048, 2048], biased: [false, false]))
        for (tokens, heads, dim, rotary, style) in [(5, 4, 64, 64, RopeStyle.neox), (9, 8, 128, 128, .interleaved), (3, 2, 128, 64, .neox)] {
            results.append(try rope(tokens: tokens, heads: heads, dim: dim, rotary: rotary, style: style))
        }
        results.append(try ropeWriteKV(tokens: 5, qHeads: 8, kvHeads: 2, dim: 64, rotary: 64, style: .neox))
        results.append(try ropeWriteKV(tokens: 3, qHeads: 32, kvHeads: 8, dim: 128, rotary: 96, style: .interleaved))
        // One token (CUDA: one GEMV rotating and writing the cache in its epilogue; both rotations,
        // partial rotary, biases), a few and many (one GEMM whose output the fused op reads in place,
        // adding the biases).
        results.append(try projectRopeWriteKV(tokens: 1, inputs: 512, qHeads: 8, kvHeads: 2, dim: 64, rotary: 64, style: .neox, biased: false))
        results.append(try projectRopeWriteKV(tokens: 1, inputs: 1024, qHeads: 16, kvHeads: 4, dim: 128, rotary: 96, style: .interleaved, biased: true))
        results.append(try projectRopeWriteKV(tokens: 1, inputs: 512, qHeads: 8, kvHeads: 4, dim: 128, rotary: 64, style: .neox, biased: true))
        results.append(try projectRopeWriteKV(tokens: 5, inputs: 512, qHeads: 8, kvHeads: 2, dim: 64, rotary: 64, style: .neox, biased: true))
        results.append(try projectRopeWriteKV(tokens: 64, inputs: 1024, qHeads: 16, kvHeads: 4, dim: 128, rotary: 96, style: .interleaved, biased: false))
        // Decode-only steps after their projections (CUDA: one token on the GEMV, a few on the packed
        // GEMM), both rotations, partial rotary, biases, a window; the new slots poisoned.
        results.append(try projectedDecodeAttention(inputs: 512, qHeads: 32, kvHeads: 8, dim: 128, rotary: 128, style: .neox, biased: false,
                                                    window: nil, cached: [700]))
        results.append(try projectedDecodeAttention(inputs: 256, qHeads: 16, kvHeads: 4, dim: 64, rotary: 64, style: .interleaved, biased: true,
                                                    window: nil, cached: [0, 15, 16, 300]))
        results.append(try projectedDecodeAttention(inputs: 256, qHeads: 8, kvHeads: 8, dim: 128, rotary: 64, style: .neox, biased: false,
                                                    window: 40, cached: [90, 3, 47]))
        results.append(try attention(qHeads: 4, kvHeads: 2, dim: 64, blockSize: 4, window: nil,
                                     sequences: [(cached: 0, new: 7), (cached: 13, new: 1), (cached: 5, new: 4)]))
        results.append(try attention(qHeads: 32, kvHeads: 8, dim: 128, blockSize: 16, window: nil,
                                     sequences: [(cached: 300, new: 1), (cached: 0, new: 40), (cached: 70, new: 1), (cached: 1000, new: 1)]))
        results.append(try attention(qHeads: 8, kvHeads: 8, dim: 256, blockSize: 16, window: 24,
                                     sequences: [(cached: 40, new: 3), (cached: 0, new: 30)]))
        // Decode-only batches (the split-K kernel, GQA 4, contexts up to 3000, with and without a window)
        // and prefill chunks over several 32-token tiles on top of cached prefixes.
        let decodes = [(cached: 2999, new: 1), (cached: 0, new: 1), (cached: 17, new: 1), (cached: 600, new: 1), (cached: 1500, new: 1)]
        results.append(try attention(qHeads: 32, kvHeads: 8, dim: 128, blockSize: 16, window: nil, sequences: decodes))
        results.append(try attention(qHeads: 32, kvHeads: 8, dim: 128, blockSize: 16, window: 100, sequences: decodes))
        results.append(try attention(qHeads: 9, kvHeads: 3, dim: 64, blockSize: 16, window: nil, sequences: decodes + [(cached: 130, new: 70)]))
        results.append(try attention(qHeads: 16, kvHeads: 2, dim: 64, blockSize: 16, window: nil,
                                     sequences: [(cached: 100, new: 100), (cached: 0, new: 33), (cached: 64, new: 1)]))
        // One token (CUDA's GEMV), a few and many (one packed GEMM, then the activation), biased.
        results.append(try gatedLinear(tokens: 1, inputs: 512, hidden: 1024, biased: false, activation: .silu))
        results.append(try gatedLinear(tokens: 1, inputs: 1280, hidden: 300, biased: false, activation: .silu))
        results.append(try gatedLinear(tokens: 3, inputs: 512, hidden: 1024, biased: false, activation: .silu))
        results.append(try gatedLinear(tokens: 64, inputs: 1024, hidden: 2048, biased: false, activation: .geluTanh))
        results.append(try gatedLinear(tokens: 5, inputs: 256, hidden: 512, biased: true, activation: .silu))
        results.append(contentsOf: try residualNormCases())
        // One token (its linears on CUDA's GEMV), a few, and many spread over 8 experts.
        results.append(try mixtureOfExperts(tokens: 1, width: 512, hidden: 1024, experts: 8, topK: 2, renormalize: true))
        results.append(try mixtureOfExperts(tokens: 7, width: 64, hidden: 96, experts: 4, topK: 2, renormalize: true))
        results.append(try mixtureOfExperts(tokens: 33, width: 256, hidden: 512, experts: 8, topK: 2, renormalize: false))
        results.append(try argmax(rows: 5, columns: 32000))
        results.append(contentsOf: try sample(rows: 24, vocab: 32000))
        results.append(try editLogits(rows: 24, vocab: 32000, perRow: 40))
        results.append(try editLogitsWithPendingDraws(rows: 24, vocab: 32000, perRow: 40))
        results.append(try tokenLogprobs(rows: 24, vocab: 128_256, top: 20))
        results.append(try tokenLogprobs(rows: 3, vocab: 1000, top: 0))
        results.append(try deferredTokens(rows: 64, vocab: 32000, nextTokens: 40))
        results.append(try editLogits(rows: 24, vocab: 32000, perRow: 25_000))
        return results
    }

    // MARK: Helpers

    /// Values as the candidate stores them (bf16-rounded for bf16 backends), so both backends see the same inputs.
    func representable(_ values: [Float]) -> [Float] {
        candidate.activationDType == .bf16 ? values.map(Self.roundToBFloat16) : values
    }

    static func roundToBFloat16(_ value: Float) -> Float {
        let bits = value.bitPattern
        return Float(bitPattern: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) & 0xffff_0000)
    }

    /// A tensor on each backend holding `values` (activation dtype unless given).
    func pair(_ values: [Float], _ shape: Shape, dtype: DType? = nil) throws -> (Tensor, Tensor) {
        let r = try reference.allocate(shape, dtype: dtype ?? reference.activationDType)
        let c = try candidate.allocate(shape, dtype: dtype ?? candidate.activationDType)
        reference.upload(values, to: r)
        candidate.upload(values, to: c)
        return (r, c)
    }

    func indexPair(_ values: [Int32]) throws -> (Tensor, Tensor) {
        let r = try reference.allocate(Shape(values.count), dtype: .i32), c = try candidate.allocate(Shape(values.count), dtype: .i32)
        reference.upload(values, to: r)
        candidate.upload(values, to: c)
        return (r, c)
    }

    /// A weight on each backend, loaded as a checkpoint's f32 tensor would be.
    func weight(_ values: [Float], _ shape: Shape) throws -> (Tensor, Tensor) {
        let allocation = HostAllocation(byteCount: values.count * 4)
        values.withUnsafeBytes { allocation.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let host = HostTensor(name: "w", dtype: .f32, shape: shape, bytes: allocation.bytes, owner: allocation)
        return (try reference.loadWeight(host), try candidate.loadWeight(host))
    }

    /// An output on each backend; the candidate's is filled with NaN.
    func outputs(_ shape: Shape, dtype: DType? = nil) throws -> (Tensor, Tensor) {
        let r = try reference.allocate(shape, dtype: dtype ?? reference.activationDType)
        let c = try candidate.allocate(shape, dtype: dtype ?? candidate.activationDType)
        reference.upload([Float](repeating: 0, count: shape.elementCount), to: r)
        candidate.upload([Float](repeating: .nan, count: shape.elementCount), to: c)
        return (r, c)
    }

    func compare(_ op: String, _ shape: String, _ pair: (Tensor, Tensor), bound: Double? = nil) -> ConformanceResult {
        let expected = reference.download(pair.0), actual = candidate.download(pair.1)
        var difference = 0.0, norm = 0.0, poisoned = 0
        for (e, a) in zip(expected, actual) {
            if a.isNaN { poisoned += 1; continue }
            difference += Double(a - e) * Double(a - e)
            norm += Double(e) * Double(e)
        }
        let relative = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
        return ConformanceResult(op: op, shape: shape, relativeError: relative, bound: bound ?? self.bound, poisoned: poisoned)
    }
}
