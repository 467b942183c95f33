import LMTensor
import Synchronization

/// out[T, N] = x[T, K] · W[N, K]ᵀ through cuBLASLt: bf16 operands, fp32 accumulation, bf16 or
/// f32 output. cuBLASLt is column-major, so this is Dᵀ[N, T] = op_T(W as K×N) · (x as K×T).
/// Descriptors and the heuristic's algorithm are cached per (T, N, K, output dtype).
final class MatrixMultiplier: @unchecked Sendable {
    struct Plan: @unchecked Sendable {   // cuBLASLt descriptors, never mutated after creation
        let description, a, b, d: OpaquePointer?
        let algorithm: [UInt8]   // cublasLtMatmulAlgo_t, 64 bytes
    }
    struct Key: Hashable { let t, n, k: Int; let output: DType }

    let blas: CUBLASLt
    let device: CUDADevice
    let handle: OpaquePointer?
    let workspace: CUDABuffer
    private let plans = Mutex<[Key: Plan]>([:])

    init(device: CUDADevice) throws(CUDAError) {
        self.device = device
        blas = try CUBLASLt(environment: device.environment)
        var handle: OpaquePointer?
        try blas.check(blas.cublasLtCreate(&handle), "cublasLtCreate")
        self.handle = handle
        workspace = try CUDABuffer(device: device, byteCount: 32 << 20)
    }

    func multiply(_ x: Tensor, weight: Tensor, out: Tensor) throws(CUDAError) {
        let t = x.shape[0], k = x.shape[1], n = weight.shape[0]
        let plan = try self.plan(Key(t: t, n: n, k: k, output: out.dtype))
        var alpha: Float = 1, beta: Float = 0
        let status = plan.algorithm.withUnsafeBytes { algorithm in
            blas.cublasLtMatmul(handle, plan.description, &alpha, weight.address, plan.a, x.address, plan.b, &beta,
                                out.address, plan.d, out.address, plan.d, algorithm.baseAddress, workspace.address, workspace.byteCount,
                                device.stream)
        }
        try blas.check(status, "cublasLtMatmul(T \(t), N \(n), K \(k))")
    }

    private func plan(_ key: Key) throws(CUDAError) -> Plan {
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
        var result = [UInt8](repeating: 0, count: CUBLASLt.heuristicResultBytes)
        var found: Int32 = 0
        let status = result.withUnsafeMutableBytes { bytes in
            blas.cublasLtMatmulAlgoGetHeuristic(handle, description, a, b, d, d, preference, 1, bytes.baseAddress!, &found)
        }
        try blas.check(status, "cublasLtMatmulAlgoGetHeuristic(T \(key.t), N \(key.n), K \(key.k))")
        guard found > 0 else { throw .unsupported("a cuBLASLt algorithm for T \(key.t), N \(key.n), K \(key.k)") }
        let plan = Plan(description: description, a: a, b: b, d: d, algorithm: Array(result[0..<64]))
        plans.withLock { $0[key] = plan }
        return plan
    }
}
