#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMCPUKernels
import LMTensor

extension CPUBackend {
    /// Elements below which an elementwise op runs on the calling thread only.
    static let inlineElements = 32_768

    /// out[r] = source[indices[r]]   source [N, C] f32/f16/bf16, indices [R] i32, out [R, C] f32.
    public func gatherRows(_ source: Tensor, indices: Tensor, out: Tensor) {
        let rows = indices.elementCount, width = source.shape.last, available = source.shape.rows
        precondition(out.shape.rows == rows && out.shape.last == width, "gatherRows: out \(out.shape) for [\(rows), \(width)]")
        let rowBytes = source.dtype.byteCount(elements: width)
        let base = UnsafeRawPointer(source.hostPointer), ids = indices.int32s, dst = out.floats
        parallelRanges(rows, minChunk: max(1, Self.inlineElements / max(width, 1))) { range, _ in
            for r in range {
                let index = Int(ids[r])
                precondition(index >= 0 && index < available, "gatherRows: index \(index) outside 0..<\(available)")
                self.convertToFloat(base + index * rowBytes, dtype: source.dtype, count: width, into: dst + r * width)
            }
        }
    }

    /// out[r] = x[r] / sqrt(mean(x[r]²) + eps) * weight   x [R, C], weight [C] f32, out [R, C].
    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        let width = x.shape.last, rows = x.shape.rows
        precondition(weight.elementCount == width && out.elementCount == x.elementCount, "rmsNorm: x \(x.shape), weight \(weight.shape), out \(out.shape)")
        let xp = x.floats, wp = weight.floats, op = out.floats
        parallelRanges(rows, minChunk: max(1, Self.inlineElements / max(width, 1))) { range, _ in
            for r in range { self.kernels.rms_norm_row(xp + r * width, wp, op + r * width, Int64(width), epsilon) }
        }
    }

    /// out = a + b.
    public func add(_ a: Tensor, _ b: Tensor, out: Tensor) {
        precondition(a.elementCount == b.elementCount && a.elementCount == out.elementCount, "add: \(a.shape) + \(b.shape) -> \(out.shape)")
        let ap = a.floats, bp = b.floats, op = out.floats
        parallelRanges(a.elementCount, minChunk: Self.inlineElements) { range, _ in
            self.kernels.add(ap + range.lowerBound, bp + range.lowerBound, op + range.lowerBound, Int64(range.count))
        }
    }

    /// out = act(gate) * up   all [T, F].
    public func gatedActivation(_ activation: Activation, gate: Tensor, up: Tensor, out: Tensor) {
        precondition(gate.elementCount == up.elementCount && gate.elementCount == out.elementCount, "gatedActivation: \(gate.shape), \(up.shape) -> \(out.shape)")
        let gp = gate.floats, up = up.floats, op = out.floats
        let kernel = activation == .silu ? kernels.silu_mul! : kernels.gelu_tanh_mul!
        parallelRanges(gate.elementCount, minChunk: Self.inlineElements / 4) { range, _ in
            kernel(gp + range.lowerBound, up + range.lowerBound, op + range.lowerBound, Int64(range.count))
        }
    }

    /// out = x * factor.
    public func scale(_ x: Tensor, by factor: Float, out: Tensor) {
        precondition(x.elementCount == out.elementCount, "scale: \(x.shape) -> \(out.shape)")
        let xp = x.floats, op = out.floats
        parallelRanges(x.elementCount, minChunk: Self.inlineElements) { range, _ in
            self.kernels.scale(xp + range.lowerBound, factor, op + range.lowerBound, Int64(range.count))
        }
    }

    /// cos/sin[t, i] of positions[t] · inverseFrequencies[i], the product rounded to f32 first
    /// as transformers computes it.
    public func ropeAngles(positions: Tensor, inverseFrequencies: Tensor, cos: Tensor, sin: Tensor) {
        let tokens = positions.elementCount, half = inverseFrequencies.elementCount
        precondition(cos.elementCount == tokens * half && sin.elementCount == tokens * half, "ropeAngles: cos \(cos.shape) for [\(tokens), \(half)]")
        let pp = positions.int32s, fp = inverseFrequencies.floats, cp = cos.floats, sp = sin.floats
        for t in 0..<tokens {
            let position = Float(pp[t])
            for i in 0..<half {
                let angle = position * fp[i]
                cp[t * half + i] = cosf(angle)
                sp[t * half + i] = sinf(angle)
            }
        }
    }

    /// Rotates the first `rotaryDim` dims of every head in place   x [T, H, D], cos/sin [T, rot/2].
    public func rope(_ x: Tensor, cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle) {
        precondition(x.shape.rank == 3, "rope: x must be [T, H, D], got \(x.shape)")
        let tokens = x.shape[0], heads = x.shape[1], dim = x.shape[2], half = rotaryDim / 2
        precondition(rotaryDim <= dim && rotaryDim % 2 == 0 && cos.elementCount == tokens * half, "rope: x \(x.shape), rotary \(rotaryDim), cos \(cos.shape)")
        let xp = x.floats, cp = cos.floats, sp = sin.floats, neox: Int32 = style == .neox ? 1 : 0
        parallelRanges(tokens, minChunk: max(1, Self.inlineElements / max(heads * dim, 1))) { range, _ in
            for t in range {
                self.kernels.rope_row(xp + t * heads * dim, Int64(heads), Int64(dim), Int64(rotaryDim), cp + t * half, sp + t * half, neox)
            }
        }
    }
}

extension CPUBackend {
    /// Index of each row's largest value, the first on ties   x [R, V] f32 -> [R].
    public func argmax(_ x: Tensor) -> [Int32] {
        let rows = x.shape.rows, width = x.shape.last, xp = x.floats
        return (0..<rows).map { r in
            let row = xp + r * width
            var best = 0
            for i in 1..<max(width, 1) where row[i] > row[best] { best = i }
            return Int32(best)
        }
    }
}
