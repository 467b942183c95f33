import LMCPU
import LMTensor
import Testing

/// The tiled linear kernels of every instruction-set level against a double-precision
/// reference, over shapes that hit every tile remainder and both the direct and widened paths.
@Suite struct LinearKernelTests {
    @Test(arguments: Reference.levels, [DType.f32, .bf16, .f16])
    func matchesReference(isa: CPUInstructionSet, dtype: DType) throws {
        let backend = try CPUBackend(threads: 2, isa: isa)
        var random = Reference.Random(seed: 42)
        for (t, n, k) in [(1, 1, 1), (1, 5, 7), (2, 67, 33), (3, 64, 16), (5, 9, 100), (8, 13, 64), (13, 70, 31), (70, 37, 129), (130, 260, 48)] {
            let x = random.floats(t * k), w = Reference.rounded(random.floats(n * k), dtype), bias = random.floats(n)
            let xt = try Reference.tensor(backend, x, Shape(t, k))
            let wt = try Reference.tensor(backend, w, Shape(n, k), dtype: dtype)
            let bt = try Reference.tensor(backend, bias, Shape(n))
            let out = try backend.allocate(Shape(t, n), dtype: .f32)
            backend.linear(xt, weight: wt, bias: bt, out: out)
            let error = Reference.maxRelativeError(backend.download(out), Reference.linear(x, w, bias, t: t, n: n, k: k))
            #expect(error < 1e-5, "\(isa) \(dtype) T=\(t) N=\(n) K=\(k): \(error)")
            backend.linear(xt, weight: wt, bias: nil, out: out)
            let plain = Reference.maxRelativeError(backend.download(out), Reference.linear(x, w, nil, t: t, n: n, k: k))
            #expect(plain < 1e-5, "\(isa) \(dtype) no bias T=\(t) N=\(n) K=\(k): \(plain)")
        }
    }

    /// Row views (`rows(_:)`) of larger tensors are what the model passes; results must not
    /// depend on where the view starts.
    @Test func worksOnRowViews() throws {
        let backend = try CPUBackend(threads: 2)
        var random = Reference.Random(seed: 7)
        let x = random.floats(10 * 32), w = random.floats(16 * 32)
        let xt = try Reference.tensor(backend, x, Shape(10, 32)), wt = try Reference.tensor(backend, w, Shape(16, 32))
        let out = try backend.allocate(Shape(10, 16), dtype: .f32)
        backend.linear(xt.rows(3..<7), weight: wt, bias: nil, out: out.rows(2..<6))
        let expected = Reference.linear(Array(x[(3 * 32)..<(7 * 32)]), w, nil, t: 4, n: 16, k: 32)
        #expect(Reference.maxRelativeError(Array(backend.download(out)[(2 * 16)..<(6 * 16)]), expected) < 1e-5)
    }
}
