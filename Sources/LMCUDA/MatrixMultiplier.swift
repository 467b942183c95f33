import LMTensor
import Synchronization

/// out[T, N] = x[T, K] · W[N, K]ᵀ through cuBLASLt: bf16 operands, fp32 accumulation, bf16 or
/// f32 output. cuBLASLt is column-major, so this is Dᵀ[N, T] = op_T(W as K×N) · (x as K×T).
/// Descriptors and the heuristic's first algorithm are cached per (T, N, K, output dtype, accumulating).
/// With `PEREGRINE_CUDA_GEMM_AUTOTUNE=1` a T of up to 256 instead gets the fastest of up to 16
/// candidates, timed on the real operands when the shape first comes. Off by default: on an H200
/// it saved 2-10% of a T = 64 GEMM in isolation, but timing (a synchronize per shape) inside
/// serving, where every new batch size is a new shape, cost more than it won (`bench linear`).
final class MatrixMultiplier: @unchecked Sendable {
    struct Plan: @unchecked Sendable {   // cuBLASLt descriptors, never mutated after creation
        let description, a, b, d: OpaquePointer?
        let algorithm: [UInt8]   // cublasLtMatmulAlgo_t, 64 bytes
    }
    struct Key: Hashable { let t, n, k: Int; let output: DType; let accumulate: Bool }

    let blas: CUBLASLt
    let device: CUDADevice
    let handle: OpaquePointer?
    let workspace: CUDABuffer
    /// Candidates are timed for T up to this: 256 with `PEREGRINE_CUDA_GEMM_AUTOTUNE=1`, else 0.
    let autotuneMaxTokens: Int
    private let timer: EventTimer
    private let plans = Mutex<[Key: Plan]>([:])

    init(device: CUDADevice) throws(CUDAError) {
        self.device = device
        blas = try CUBLASLt(environment: device.environment)
        var handle: OpaquePointer?
        try blas.check(blas.cublasLtCreate(&handle), "cublasLtCreate")
        self.handle = handle
        workspace = try CUDABuffer(device: device, byteCount: 32 << 20)
        autotuneMaxTokens = device.environment["PEREGRINE_CUDA_GEMM_AUTOTUNE"] == "1" ? 256 : 0
        timer = try EventTimer(device: device)
    }

    /// With `accumulate`, out += x · Wᵀ in place (beta = 1, C = D): the fp32 sum is rounded
    /// once, where a product stored and then added rounds twice.
    func multiply(_ x: Tensor, weight: Tensor, out: Tensor, accumulate: Bool = false) throws(CUDAError) {
        let t = x.shape[0], k = x.shape[1], n = weight.shape[0]
        let plan = try self.plan(Key(t: t, n: n, k: k, output: out.dtype, accumulate: accumulate), x, weight, out)
        try blas.check(run(plan.description, plan.a, plan.b, plan.d, plan.algorithm, x, weight, out, beta: accumulate ? 1 : 0),
                       "cublasLtMatmul(T \(t), N \(n), K \(k)\(accumulate ? ", accumulating" : ""))")
    }

    private func run(_ description: OpaquePointer?, _ a: OpaquePointer?, _ b: OpaquePointer?, _ d: OpaquePointer?,
                     _ algorithm: [UInt8], _ x: Tensor, _ weight: Tensor, _ out: Tensor, beta: Float = 0) -> CUBLASLt.Status {
        var alpha: Float = 1, beta = beta
        return algorithm.withUnsafeBytes { algorithm in
            blas.cublasLtMatmul(handle, description, &alpha, weight.address, a, x.address, b, &beta,
                                out.address, d, out.address, d, algorithm.baseAddress, workspace.address, workspace.byteCount,
                                device.stream)
        }
    }

    private func plan(_ key: Key, _ x: Tensor, _ weight: Tensor, _ out: Tensor) throws(CUDAError) -> Plan {
        if let found = plans.withLock({ $0[key] }) { return found }
        let outputType = key.output == .f32 ? CUBLASLt.dataF32 : CUBLASLt.dataBF16
        var description: OpaquePointer?
        try blas.check(blas.cublasLtMatmulDescCreate(&description, CUBLASLt.computeF32, CUBLASLt.dataF32), "cublasLtMatmulDescCreate")
        var transpose: Int32 = 1, none: Int32 = 0
        try blas.check(blas.cublasLtMatmulDescSetAttribute(description, CUBLASLt.transposeA, &transpose, 4), "cublasLtMatmulDescSetAttribute(TRANSA)")
        try blas.check(blas.cublasLtMatmulDescSetAttribute(description, CUBLASLt.transposeB, &none, 4), "cublasLtMatmulDescSetAttribute(TRANSB)")
        var a: OpaquePointer?, b: OpaquePointer?, d: OpaquePointer?
        try blas.check(blas.cublasLtMatrixLayoutCreate(&a, CUBLASLt.dataBF16, UInt64(key.k), UInt64(key.n), Int64(key.k)), "cublasLtMatrixLayoutCreate(W)")
        try blas.check(blas.cublasLtMatrixLayoutCreate(&b, CUBLASLt.dataBF16, UInt64(key.k), UInt64(key.t), Int64(key.k)), "cublasLtMatrixLayoutCreate(x)")
        try blas.check(blas.cublasLtMatrixLayoutCreate(&d, outputType, UInt64(key.n), UInt64(key.t), Int64(key.n)), "cublasLtMatrixLayoutCreate(out)")
        var preference: OpaquePointer?
        try blas.check(blas.cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate")
        var limit = UInt64(workspace.byteCount)
        try blas.check(blas.cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLt.maxWorkspaceBytes, &limit, 8), "cublasLtMatmulPreferenceSetAttribute")
        // Timing candidates overwrites out, which an accumulating product must not do.
        let tune = key.t <= autotuneMaxTokens && !key.accumulate && !streamIsCapturing()
        let requested = tune ? 16 : 1
        var results = [UInt8](repeating: 0, count: CUBLASLt.heuristicResultBytes * requested)
        var found: Int32 = 0
        let status = results.withUnsafeMutableBytes { bytes in
            blas.cublasLtMatmulAlgoGetHeuristic(handle, description, a, b, d, d, preference, Int32(requested), bytes.baseAddress!, &found)
        }
        try blas.check(status, "cublasLtMatmulAlgoGetHeuristic(T \(key.t), N \(key.n), K \(key.k))")
        guard found > 0 else { throw .unsupported("a cuBLASLt algorithm for T \(key.t), N \(key.n), K \(key.k)") }
        let candidates = (0..<Int(found)).map { i in
            Array(results[i * CUBLASLt.heuristicResultBytes..<i * CUBLASLt.heuristicResultBytes + 64])
        }
        var best = candidates[0]
        if candidates.count > 1 {
            var bestTime = Double.infinity
            for candidate in candidates {
                // A candidate that fails to launch is skipped; the first one is the fallback.
                guard run(description, a, b, d, candidate, x, weight, out) == 0 else { continue }
                var failed = false
                let seconds = try timer.seconds {
                    for _ in 0..<3 {
                        if run(description, a, b, d, candidate, x, weight, out) != 0 { failed = true }
                    }
                }
                if !failed, seconds < bestTime { (best, bestTime) = (candidate, seconds) }
            }
        }
        let plan = Plan(description: description, a: a, b: b, d: d, algorithm: best)
        plans.withLock { $0[key] = plan }
        return plan
    }

    /// Timing needs a synchronize, which a stream being captured into a graph cannot do.
    private func streamIsCapturing() -> Bool {
        var status: Int32 = 0
        return device.driver.cuStreamIsCapturing(device.stream, &status) != 0 || status != 0
    }
}
