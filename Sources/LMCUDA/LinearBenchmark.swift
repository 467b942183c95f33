import LMTensor

/// Device time of one `linear` as the models run it (our GEMV for a few tokens, cuBLASLt
/// beyond), with the weight rotated over copies totalling at least 1 GiB so every call streams
/// it from memory rather than from the 50 MB L2.
public enum LinearBenchmark {
    /// Seconds per call of x[tokens, k] · W[n, k]ᵀ, bf16, the mean over `calls` after a warm-up
    /// (the warm-up also builds the cuBLASLt plan, timing its candidates).
    public static func seconds(_ backend: CUDABackend, tokens: Int, n: Int, k: Int, calls: Int = 50) throws(CUDAError) -> Double {
        let device = backend.device
        device.makeCurrent()
        let weightBytes = n * k * 2
        let copies = max(2, (1 << 30 + weightBytes - 1) / weightBytes)
        func filled(_ bytes: Int) throws(CUDAError) -> CUDABuffer {
            let buffer = try CUDABuffer(device: device, byteCount: bytes)
            // 0x3c3c is bf16 0.0115: nonzero, finite, the same arithmetic as real weights.
            try device.driver.check(device.driver.cuMemsetD8Async(buffer.address, 0x3c, bytes, device.stream), "cuMemsetD8Async")
            return buffer
        }
        let weights = try (0..<copies).map { _ throws(CUDAError) in
            Tensor(buffer: try filled(weightBytes), dtype: .bf16, shape: Shape(n, k))
        }
        let x = Tensor(buffer: try filled(tokens * k * 2), dtype: .bf16, shape: Shape(tokens, k))
        let out = Tensor(buffer: try filled(tokens * n * 2), dtype: .bf16, shape: Shape(tokens, n))
        backend.linear(x, weight: weights[0], bias: nil, out: out)
        let timer = try EventTimer(device: device)
        let total = try timer.seconds {
            for call in 0..<calls { backend.linear(x, weight: weights[call % copies], bias: nil, out: out) }
        }
        return total / Double(calls)
    }

    /// "gemv", "skinny" or "cuBLASLt": which path `linear` takes for this many tokens into bf16.
    public static func path(_ backend: CUDABackend, tokens: Int, n: Int, k: Int) -> String {
        if backend.usesGEMV(tokens: tokens, columns: k) { return "gemv" }
        return backend.usesSkinnyGEMM(tokens: tokens, rows: n, columns: k, output: .bf16) ? "skinny" : "cuBLASLt"
    }
}
