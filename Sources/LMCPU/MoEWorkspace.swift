import LMTensor

/// Reusable buffers of the CPU mixture-of-experts op, grown to the largest batch seen.
struct MoEWorkspace {
    var expertInput: CPUBuffer?    // [n, C] tokens routed to one expert
    var gate: CPUBuffer?           // [n, F]
    var up: CPUBuffer?             // [n, F]
    var expertOutput: CPUBuffer?   // [n, C]
    /// Per (token, slot): chosen expert and its routing weight.
    var chosenExperts: [Int] = []
    var chosenWeights: [Float] = []
    var probabilities: [Float] = []
    /// Tokens routed to the expert being computed, with their routing weights.
    var members: [(token: Int, weight: Float)] = []

    /// An f32 tensor of `shape` backed by `buffer`, reallocated when too small.
    static func view(_ buffer: inout CPUBuffer?, _ shape: Shape) -> Tensor {
        let bytes = shape.elementCount * 4
        if buffer == nil || buffer!.byteCount < bytes { buffer = CPUBuffer(byteCount: bytes) }
        return Tensor(buffer: buffer!, dtype: .f32, shape: shape)
    }
}
