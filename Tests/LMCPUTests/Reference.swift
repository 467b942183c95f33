import LMCPU
import LMTensor

/// Naive double-precision references for the kernel tests, and helpers to move data in and out.
enum Reference {
    /// Deterministic pseudo-random floats in [-1, 1).
    struct Random {
        var state: UInt64
        init(seed: UInt64) { state = seed | 1 }
        mutating func next() -> Float {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Float((state &* 0x2545F4914F6CDD1D) >> 40) / Float(1 << 24) * 2 - 1
        }
        mutating func floats(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in scale * next() } }
        mutating func int(_ bound: Int) -> Int { Int((next() + 1) / 2 * Float(bound)) % bound }
    }

    static func tensor(_ backend: CPUBackend, _ values: [Float], _ shape: Shape, dtype: DType = .f32) throws -> Tensor {
        let storage = HostAllocation(byteCount: dtype.byteCount(elements: values.count))
        for (i, v) in values.enumerated() {
            switch dtype {
            case .f32: storage.pointer.storeBytes(of: v, toByteOffset: 4 * i, as: Float.self)
            case .bf16: storage.pointer.storeBytes(of: bf16Bits(v), toByteOffset: 2 * i, as: UInt16.self)
            case .f16: storage.pointer.storeBytes(of: Float16(v).bitPattern, toByteOffset: 2 * i, as: UInt16.self)
            default: fatalError("test tensors are float")
            }
        }
        let tensor = try backend.allocate(shape, dtype: dtype)
        backend.copy(from: HostTensor(name: "test", dtype: dtype, shape: shape, bytes: storage.bytes, owner: storage), to: tensor)
        return tensor
    }

    /// Values as the kernel sees them after storing in `dtype`.
    static func rounded(_ values: [Float], _ dtype: DType) -> [Float] {
        switch dtype {
        case .bf16: values.map { Float(bitPattern: UInt32(bf16Bits($0)) << 16) }
        case .f16: values.map { Float(Float16($0)) }
        default: values
        }
    }

    static func bf16Bits(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16((bits + 0x7fff + ((bits >> 16) & 1)) >> 16)
    }

    static func linear(_ x: [Float], _ w: [Float], _ bias: [Float]?, t: Int, n: Int, k: Int) -> [Float] {
        var y = [Float](repeating: 0, count: t * n)
        for i in 0..<t {
            for j in 0..<n {
                var s = 0.0
                for c in 0..<k { s += Double(x[i * k + c]) * Double(w[j * k + c]) }
                y[i * n + j] = Float(s + Double(bias?[j] ?? 0))
            }
        }
        return y
    }

    static func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map(abs).max() ?? 0, 1e-6)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    static var levels: [CPUInstructionSet] { CPUInstructionSet.allCases.filter { $0 <= .detected } }
}
