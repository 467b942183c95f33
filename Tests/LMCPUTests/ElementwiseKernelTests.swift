import Foundation
import LMCPU
import LMCPUKernels
import LMTensor
import Testing

/// Norms, activations, RoPE, gathers and conversions of every level against direct formulas.
@Suite struct ElementwiseKernelTests {
    @Test(arguments: Reference.levels)
    func rmsNormSiluAddRope(isa: CPUInstructionSet) throws {
        let backend = try CPUBackend(threads: 2, isa: isa)
        var random = Reference.Random(seed: 11)
        let rows = 300, width = 37
        let x = random.floats(rows * width, scale: 3), w = random.floats(width)
        let xt = try Reference.tensor(backend, x, Shape(rows, width)), wt = try Reference.tensor(backend, w, Shape(width))
        let out = try backend.allocate(Shape(rows, width), dtype: .f32)
        backend.rmsNorm(xt, weight: wt, epsilon: 1e-5, out: out)
        var expected: [Float] = []
        for r in 0..<rows {
            let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
            let inv = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(width) + 1e-5).squareRoot()
            expected += row.enumerated().map { Float($1 * inv * Double(w[$0])) }
        }
        #expect(Reference.maxRelativeError(backend.download(out), expected) < 1e-5, "rmsNorm \(isa)")

        // In place, as the model's q/k norm uses it.
        backend.rmsNorm(xt, weight: wt, epsilon: 1e-5, out: xt)
        #expect(Reference.maxRelativeError(backend.download(xt), expected) < 1e-5, "rmsNorm in place \(isa)")

        let gate = random.floats(50_000, scale: 20), up = random.floats(50_000)
        let gt = try Reference.tensor(backend, gate, Shape(50_000)), ut = try Reference.tensor(backend, up, Shape(50_000))
        let act = try backend.allocate(Shape(50_000), dtype: .f32)
        backend.gatedActivation(.silu, gate: gt, up: ut, out: act)
        let silu = zip(gate, up).map { g, u in Float(Double(g) / (1 + exp(-Double(g))) * Double(u)) }
        #expect(Reference.maxRelativeError(backend.download(act), silu) < 1e-6, "silu \(isa)")

        backend.gatedActivation(.geluTanh, gate: gt, up: ut, out: act)
        let gelu = zip(gate, up).map { g, u in
            let x = Double(g)
            return Float(0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) * Double(u))
        }
        #expect(Reference.maxRelativeError(backend.download(act), gelu) < 1e-6, "gelu tanh \(isa)")

        backend.scale(gt, by: 3.5, out: act)
        #expect(backend.download(act) == gate.map { $0 * 3.5 }, "scale \(isa)")

        backend.add(gt, ut, out: act)
        #expect(backend.download(act) == zip(gate, up).map { $0 + $1 }, "add \(isa)")

        for style in [RopeStyle.neox, .interleaved] {
            let t = 5, heads = 3, dim = 8, rotary = 6
            let values = random.floats(t * heads * dim)
            let positions: [Int32] = [0, 1, 7, 100, 3000]
            let frequencies: [Float] = (0..<(rotary / 2)).map { 1 / powf(10_000, Float(2 * $0) / Float(rotary)) }
            let xt = try Reference.tensor(backend, values, Shape(t, heads, dim))
            let pos = try backend.allocate(Shape(t), dtype: .i32), freq = try Reference.tensor(backend, frequencies, Shape(rotary / 2))
            backend.upload(positions, to: pos)
            let cos = try backend.allocate(Shape(t, rotary / 2), dtype: .f32), sin = try backend.allocate(Shape(t, rotary / 2), dtype: .f32)
            backend.ropeAngles(positions: pos, inverseFrequencies: freq, cos: cos, sin: sin)
            backend.rope(xt, cos: cos, sin: sin, rotaryDim: rotary, style: style)
            var rotated = values
            for ti in 0..<t {
                for h in 0..<heads {
                    let base = (ti * heads + h) * dim
                    for i in 0..<(rotary / 2) {
                        let angle = Double(Float(positions[ti]) * frequencies[i])
                        let (a, b) = style == .neox ? (base + i, base + i + rotary / 2) : (base + 2 * i, base + 2 * i + 1)
                        rotated[a] = Float(Double(values[a]) * Foundation.cos(angle) - Double(values[b]) * Foundation.sin(angle))
                        rotated[b] = Float(Double(values[b]) * Foundation.cos(angle) + Double(values[a]) * Foundation.sin(angle))
                    }
                }
            }
            #expect(Reference.maxRelativeError(backend.download(xt), rotated) < 1e-5, "rope \(style) \(isa)")
        }
    }

    @Test(arguments: Reference.levels)
    func gatherRowsWidensEveryFloatType(isa: CPUInstructionSet) throws {
        let backend = try CPUBackend(threads: 2, isa: isa)
        var random = Reference.Random(seed: 5)
        for dtype in [DType.f32, .bf16, .f16] {
            let table = Reference.rounded(random.floats(40 * 19, scale: 4), dtype)
            let tt = try Reference.tensor(backend, table, Shape(40, 19), dtype: dtype)
            let ids: [Int32] = [39, 0, 7, 7]
            let it = try backend.allocate(Shape(4), dtype: .i32)
            backend.upload(ids, to: it)
            let out = try backend.allocate(Shape(4, 19), dtype: .f32)
            backend.gatherRows(tt, indices: it, out: out)
            #expect(backend.download(out) == ids.flatMap { table[(Int($0) * 19)..<(Int($0) * 19 + 19)] }, "\(dtype) \(isa)")
        }
    }

    /// The C conversions agree with Swift's Float16 and a direct bf16 rounding on specials,
    /// subnormals, ties and random values.
    @Test func conversionsRoundToNearestEven() {
        var random = Reference.Random(seed: 9)
        var values: [Float] = [0, -0, 1, -1, 65504, 65519, 65520, 1e-8, 5.96e-8, 2.98e-8, 2.99e-8, 6.1e-5, 6.09e-5,
                               .infinity, -.infinity, .leastNormalMagnitude, .greatestFiniteMagnitude, 1.00048828125, 1.00146484375]
        values += random.floats(10_000, scale: 70_000) + random.floats(10_000, scale: 1e-4)
        for v in values {
            #expect(lm_f32_to_f16(v) == Float16(v).bitPattern, "f16 of \(v)")
            #expect(lm_f16_to_f32(Float16(v).bitPattern) == Float(Float16(v)), "f16 back of \(v)")
            #expect(lm_f32_to_bf16(v) == Reference.bf16Bits(v), "bf16 of \(v)")
        }
        #expect(lm_f32_to_f16(.nan) & 0x7e00 == 0x7e00)
        #expect(lm_bf16_to_f32(lm_f32_to_bf16(.nan)).isNaN)
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = lm_f16_to_f32(bits)
            #expect(actual == expected || (actual.isNaN && expected.isNaN))
        }
    }

    @Test func argmaxTakesTheFirstMaximum() throws {
        let backend = try CPUBackend(threads: 1)
        let t = try Reference.tensor(backend, [1, 5, 5, 2, -1, -1, -3, -1], Shape(2, 4))
        #expect(backend.argmax(t) == [1, 0])
    }

    @Test func instructionSetAboveTheCPUIsRefused() throws {
        guard CPUInstructionSet.detected < .avx512 else { return }
        #expect(throws: CPUBackendError.self) { try CPUBackend(isa: .avx512) }
    }
}
