/// cuBLASLt (`libcublasLt.so.*`): the dense matrix products, bf16/f16 operands with fp32
/// accumulation. Descriptors and the chosen algorithm are cached per problem shape.
final class CUBLASLt: @unchecked Sendable {
    typealias Status = Int32
    typealias Handle = OpaquePointer
    let library: DynamicLibrary

    let cublasLtCreate: @convention(c) (UnsafeMutablePointer<Handle?>) -> Status
    let cublasLtGetVersion: @convention(c) () -> Int
    let cublasLtMatmulDescCreate: @convention(c) (UnsafeMutablePointer<Handle?>, Int32, Int32) -> Status
    let cublasLtMatmulDescSetAttribute: @convention(c) (Handle?, Int32, UnsafeRawPointer, Int) -> Status
    let cublasLtMatrixLayoutCreate: @convention(c) (UnsafeMutablePointer<Handle?>, Int32, UInt64, UInt64, Int64) -> Status
    let cublasLtMatmulPreferenceCreate: @convention(c) (UnsafeMutablePointer<Handle?>) -> Status
    let cublasLtMatmulPreferenceSetAttribute: @convention(c) (Handle?, Int32, UnsafeRawPointer, Int) -> Status
    let cublasLtMatmulAlgoGetHeuristic: @convention(c) (Handle?, Handle?, Handle?, Handle?, Handle?, Handle?, Handle?, Int32,
                                                        UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Status
    let cublasLtMatmul: @convention(c) (Handle?, Handle?, UnsafeRawPointer, UInt64, Handle?, UInt64, Handle?, UnsafeRawPointer,
                                        UInt64, Handle?, UInt64, Handle?, UnsafeRawPointer?, UInt64, Int, CUhandle?) -> Status

    init(environment: [String: String]) throws(CUDAError) {
        let lib = try DynamicLibrary.open("cuBLASLt (libcublasLt.so)", candidates: ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"],
                                          environment: environment)
        library = lib
        cublasLtCreate = try lib.function("cublasLtCreate")
        cublasLtGetVersion = try lib.function("cublasLtGetVersion")
        cublasLtMatmulDescCreate = try lib.function("cublasLtMatmulDescCreate")
        cublasLtMatmulDescSetAttribute = try lib.function("cublasLtMatmulDescSetAttribute")
        cublasLtMatrixLayoutCreate = try lib.function("cublasLtMatrixLayoutCreate")
        cublasLtMatmulPreferenceCreate = try lib.function("cublasLtMatmulPreferenceCreate")
        cublasLtMatmulPreferenceSetAttribute = try lib.function("cublasLtMatmulPreferenceSetAttribute")
        cublasLtMatmulAlgoGetHeuristic = try lib.function("cublasLtMatmulAlgoGetHeuristic")
        cublasLtMatmul = try lib.function("cublasLtMatmul")
    }

    func check(_ status: Status, _ call: @autoclosure () -> String) throws(CUDAError) {
        guard status != 0 else { return }
        throw .call(call(), code: status, name: Self.statusName(status))
    }

    static func statusName(_ status: Status) -> String {
        switch status {
        case 1: "CUBLAS_STATUS_NOT_INITIALIZED"
        case 3: "CUBLAS_STATUS_ALLOC_FAILED"
        case 7: "CUBLAS_STATUS_INVALID_VALUE"
        case 8: "CUBLAS_STATUS_ARCH_MISMATCH"
        case 11: "CUBLAS_STATUS_MAPPING_ERROR"
        case 13: "CUBLAS_STATUS_EXECUTION_FAILED"
        case 14: "CUBLAS_STATUS_INTERNAL_ERROR"
        case 15: "CUBLAS_STATUS_NOT_SUPPORTED"
        default: "CUBLAS_STATUS_\(status)"
        }
    }

    // Enum values from cublasLt.h / library_types.h.
    static let computeF32: Int32 = 68          // CUBLAS_COMPUTE_32F
    static let dataF32: Int32 = 0, dataF16: Int32 = 2, dataBF16: Int32 = 14
    static let transposeA: Int32 = 3, transposeB: Int32 = 4  // CUBLASLT_MATMUL_DESC_TRANSA / _TRANSB
    static let maxWorkspaceBytes: Int32 = 1    // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
    /// sizeof(cublasLtMatmulHeuristicResult_t): algo (64) + workspaceSize (8) + state (4) + wavesCount (4) + reserved (16).
    static let heuristicResultBytes = 96
}
