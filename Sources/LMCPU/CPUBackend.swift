#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMCPUKernels
import LMTensor

/// The reference backend: f32 activations over f32/f16/bf16 weights, SIMD kernels chosen at run
/// time (AVX-512, AVX2+FMA+F16C, or portable C), and a persistent thread pool. It is the oracle
/// every other backend is tested against, and a usable fallback on machines without a GPU.
///
/// Driven by one thread at a time (the engine core); the scratch state below relies on that.
public final class CPUBackend: Backend, @unchecked Sendable {
    public let isa: CPUInstructionSet
    public let pool: ThreadPool
    let kernels: lm_kernels

    /// Per-thread scratch (linear panels, attention scores), grown before a loop starts.
    private var threadScratch: [UnsafeMutablePointer<Float>] = []
    private var threadScratchFloats = 0
    /// Reusable buffers of the mixture-of-experts op.
    var moeWorkspace = MoEWorkspace()
    /// Reusable state of the attention op: per-sequence task plans and split partials.
    var attentionPlans: [AttentionPlan] = []
    /// Reusable chunk table of the grouped linear (first chunk of each projection).
    var linearChunkStarts: [Int] = []
    let attentionPartials = FloatArena()
    /// Steps run in the fused residual-norm schedule (`fusesResidualNorms`) on the reference ops:
    /// nothing to gain on a CPU, but tests check with it that the schedule leaves a model's logits as they were.
    let residualNormSchedule: Bool

    /// - Parameters:
    ///   - threads: computing threads; defaults to the online CPUs.
    ///   - isa: instruction set; defaults to `PEREGRINE_CPU_ISA` if set, else the best detected.
    ///   - residualNormSchedule: see `residualNormSchedule`.
    public init(threads: Int? = nil, isa: CPUInstructionSet? = nil, residualNormSchedule: Bool = false) throws {
        self.residualNormSchedule = residualNormSchedule
        let detected = CPUInstructionSet.detected
        let chosen = try isa ?? CPUInstructionSet.fromEnvironment() ?? detected
        guard chosen <= detected else {
            throw CPUBackendError.unsupportedInstructionSet(requested: chosen, available: detected)
        }
        self.isa = chosen
        kernels = lm_kernels_for_isa(chosen.cValue)
        pool = ThreadPool(threadCount: threads ?? CPUBackend.onlineCPUCount)
    }

    deinit {
        for scratch in threadScratch { scratch.deallocate() }
    }

    public var name: String { "cpu (\(isa), \(pool.threadCount) threads)" }
    public var activationDType: DType { .f32 }
    public func fusesResidualNorms(tokens: Int) -> Bool { residualNormSchedule }

    public static var onlineCPUCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    // MARK: Memory

    public func allocate(_ shape: Shape, dtype: DType) throws -> Tensor {
        Tensor(buffer: CPUBuffer(byteCount: dtype.byteCount(elements: shape.elementCount)), dtype: dtype, shape: shape)
    }

    public func loadWeight(_ host: HostTensor) throws -> Tensor {
        guard host.dtype.isWeightType else { throw CPUBackendError.unsupportedWeightType(host.name, host.dtype) }
        if host.shape.rank == 1 && host.dtype != .f32 {
            // Norm weights and biases are small and read in f32 by the kernels.
            let tensor = try allocate(host.shape, dtype: .f32)
            convertToFloat(host.bytes.baseAddress!, dtype: host.dtype, count: host.shape.elementCount, into: tensor.floats)
            return tensor
        }
        return Tensor(buffer: CPUBuffer(aliasing: host.bytes, owner: host.owner), dtype: host.dtype, shape: host.shape)
    }

    public func upload(_ values: [Int32], to tensor: Tensor) {
        precondition(values.count == tensor.elementCount, "uploading \(values.count) values into \(tensor.shape)")
        values.withUnsafeBufferPointer { tensor.int32s.update(from: $0.baseAddress!, count: values.count) }
    }

    public func upload(_ values: [Float], to tensor: Tensor) {
        precondition(values.count == tensor.elementCount, "uploading \(values.count) values into \(tensor.shape)")
        values.withUnsafeBufferPointer { tensor.floats.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Copies host bytes of the same dtype and size into `tensor`.
    public func copy(from host: HostTensor, to tensor: Tensor) {
        precondition(host.dtype == tensor.dtype && host.bytes.count == tensor.byteCount, "copy: \(host.shape) \(host.dtype) into \(tensor.shape) \(tensor.dtype)")
        tensor.hostPointer.copyMemory(from: host.bytes.baseAddress!, byteCount: host.bytes.count)
    }

    /// At once, bit for bit (a float download would round the logprob words' bit patterns).
    public func startDownload(_ tensor: Tensor) -> PendingTokens {
        precondition(tensor.dtype == .i32, "startDownload of a \(tensor.dtype) tensor")
        return PendingTokens(ready: Array(UnsafeBufferPointer(start: tensor.int32s, count: tensor.elementCount)))
    }

    /// In place (the reference's download and upload would copy every logit twice).
    public func editLogits(_ logits: Tensor, _ edits: [LogitEdit]) {
        precondition(logits.dtype == .f32, "editLogits of \(logits.dtype) logits")
        let values = logits.floats
        for edit in edits {
            let index = edit.index(in: logits.shape)
            values[index] = edit.apply(to: values[index])
        }
    }

    public func download(_ tensor: Tensor) -> [Float] {
        [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, count in
            if tensor.dtype == .i32 {
                for i in 0..<tensor.elementCount { buffer[i] = Float(tensor.int32s[i]) }
            } else {
                convertToFloat(tensor.hostPointer, dtype: tensor.dtype, count: tensor.elementCount, into: buffer.baseAddress!)
            }
            count = tensor.elementCount
        }
    }

    /// A host tensor of any weight type (float or GGUF block-quantized) as f32 values, with the
    /// reference dequantizers; other backends load quantized checkpoints through this.
    public func dequantize(_ host: HostTensor) -> [Float] {
        [Float](unsafeUninitializedCapacity: host.shape.elementCount) { buffer, initialized in
            convertToFloat(host.bytes.baseAddress!, dtype: host.dtype, count: host.shape.elementCount, into: buffer.baseAddress!)
            initialized = host.shape.elementCount
        }
    }

    /// Widens or dequantizes `count` values (whole blocks) of a weight type to f32.
    func convertToFloat(_ source: UnsafeRawPointer, dtype: DType, count: Int, into out: UnsafeMutablePointer<Float>) {
        kernels.dequantize_row(dtype.weightType, source, out, Int64(count))
    }

    // MARK: Scratch and loops

    /// Makes every thread's scratch hold at least `floats` floats. Call before `parallelFor`.
    func reserveThreadScratch(floats: Int) {
        guard floats > threadScratchFloats else { return }
        for scratch in threadScratch { scratch.deallocate() }
        let capacity = max(floats, threadScratchFloats * 2)
        threadScratch = (0..<pool.threadCount).map { _ in .allocate(capacity: capacity) }
        threadScratchFloats = capacity
    }

    func scratch(thread: Int) -> UnsafeMutablePointer<Float> { threadScratch[thread] }

    /// Runs `body` over `0..<count` split into contiguous ranges of at least `minChunk` items,
    /// about four per thread; small loops run inline on the caller.
    func parallelRanges(_ count: Int, minChunk: Int, _ body: (Range<Int>, Int) -> Void) {
        guard count > 0 else { return }
        let chunk = max(minChunk, (count + pool.threadCount * 4 - 1) / (pool.threadCount * 4))
        let tasks = (count + chunk - 1) / chunk
        if tasks == 1 {
            body(0..<count, 0)
            return
        }
        pool.parallelFor(tasks) { task, thread in
            body(task * chunk ..< min(count, (task + 1) * chunk), thread)
        }
    }
}

extension DType {
    /// The kernels' code for a weight type.
    var weightType: lm_wtype {
        switch self {
        case .f32: LM_W_F32
        case .f16: LM_W_F16
        case .bf16: LM_W_BF16
        case .q8_0: LM_W_Q8_0
        case .q4_0: LM_W_Q4_0
        case .q4_1: LM_W_Q4_1
        case .q5_0: LM_W_Q5_0
        case .q5_1: LM_W_Q5_1
        case .q4K: LM_W_Q4_K
        case .q5K: LM_W_Q5_K
        case .q6K: LM_W_Q6_K
        case .i32, .i8: preconditionFailure("\(self) is not a weight type")
        }
    }
}

/// Instruction-set levels of the CPU kernels, ordered from portable to widest.
public enum CPUInstructionSet: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case portable = 0, avx2 = 1, avx512 = 2

    public static var detected: CPUInstructionSet {
        CPUInstructionSet(rawValue: Int(lm_cpu_detect_isa().rawValue)) ?? .portable
    }

    /// `PEREGRINE_CPU_ISA` (portable, avx2, avx512), to force a level for testing or debugging.
    static func fromEnvironment() throws -> CPUInstructionSet? {
        guard let raw = getenv("PEREGRINE_CPU_ISA") else { return nil }
        let value = String(cString: raw)
        guard let level = allCases.first(where: { $0.description == value }) else {
            throw CPUBackendError.unknownInstructionSet(value)
        }
        return level
    }

    var cValue: lm_isa { lm_isa(rawValue: UInt32(rawValue)) }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }
}

public enum CPUBackendError: Error, CustomStringConvertible, Equatable {
    case unsupportedInstructionSet(requested: CPUInstructionSet, available: CPUInstructionSet)
    case unknownInstructionSet(String)
    case unsupportedWeightType(String, DType)

    public var description: String {
        switch self {
        case let .unsupportedInstructionSet(requested, available):
            "this CPU does not support \(requested) kernels (best available: \(available))"
        case let .unknownInstructionSet(value):
            "PEREGRINE_CPU_ISA=\(value) is not one of portable, avx2, avx512"
        case let .unsupportedWeightType(name, dtype):
            "weight \(name) has dtype \(dtype), which the CPU backend cannot compute with"
        }
    }
}
