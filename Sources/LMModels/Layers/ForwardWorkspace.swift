import LMTensor

/// Activation buffers of a forward pass, allocated for `tokenCapacity` tokens and reused every
/// step (reallocated only when a larger batch arrives). Views of the first T rows are taken per step.
final class ForwardWorkspace {
    let tokenCapacity: Int
    let rowCapacity: Int
    let tokens, positions, logitRows: Tensor       // [T] i32, [T] i32, [R] i32
    let hidden, normed, projected: Tensor          // [T, C]
    let query, attended: Tensor                    // [T, Hq·D]
    let key, value: Tensor                         // [T, Hkv·D]
    let gate, up: Tensor                           // [T, F]
    let routerLogits: Tensor?                      // [T, E]
    let cos, sin: Tensor                           // [T, rot/2]
    let localCos, localSin: Tensor?                // [T, rot/2] of sliding-window layers' own RoPE
    let finalRows: Tensor                          // [R, C]
    let logits: Tensor                             // [R, V]

    init(spec: DecoderSpec, tokenCapacity: Int, rowCapacity: Int, backend: any Backend) throws {
        self.tokenCapacity = tokenCapacity
        self.rowCapacity = rowCapacity
        let t = tokenCapacity, dtype = backend.activationDType
        func make(_ dims: Int...) throws -> Tensor { try backend.allocate(Shape(dims), dtype: dtype) }
        tokens = try backend.allocate(Shape(t), dtype: .i32)
        positions = try backend.allocate(Shape(t), dtype: .i32)
        logitRows = try backend.allocate(Shape(rowCapacity), dtype: .i32)
        hidden = try make(t, spec.hiddenSize)
        normed = try make(t, spec.hiddenSize)
        projected = try make(t, spec.hiddenSize)
        query = try make(t, spec.queryWidth)
        attended = try make(t, spec.queryWidth)
        key = try make(t, spec.kvWidth)
        value = try make(t, spec.kvWidth)
        let width = spec.experts?.intermediateSize ?? spec.intermediateSize
        gate = try make(t, width)
        up = try make(t, width)
        routerLogits = try spec.experts.map { try backend.allocate(Shape(t, $0.count), dtype: .f32) }
        cos = try backend.allocate(Shape(t, spec.rope.rotaryDim / 2), dtype: .f32)
        sin = try backend.allocate(Shape(t, spec.rope.rotaryDim / 2), dtype: .f32)
        localCos = try spec.localRope.map { try backend.allocate(Shape(t, $0.rotaryDim / 2), dtype: .f32) }
        localSin = try spec.localRope.map { try backend.allocate(Shape(t, $0.rotaryDim / 2), dtype: .f32) }
        finalRows = try make(rowCapacity, spec.hiddenSize)
        logits = try backend.allocate(Shape(rowCapacity, spec.vocabSize), dtype: .f32)
    }
}
