import LMTensor

/// Measures the f32 multiply-add throughput of all the backend's threads (register-only chains
/// in the selected instruction set): the ceiling compute-bound kernels are judged against.
public enum ComputeCeiling {
    /// Floating-point operations per second, best of `repeats`.
    public static func measure(backend: CPUBackend, repeats: Int = 3) -> Double {
        let iterations: Int64 = 20_000_000
        var best = 0.0
        for _ in 0..<repeats {
            let start = monotonicNanoseconds()
            backend.pool.parallelFor(backend.pool.threadCount) { _, _ in
                _ = backend.kernels.fma_probe(iterations, 1)
            }
            let seconds = Double(monotonicNanoseconds() - start) * 1e-9
            let perThread = backend.kernels.fma_probe(0, 1) == 0 ? 2 * 8 * 16 * Double(iterations) : 0
            best = max(best, perThread * Double(backend.pool.threadCount) / seconds)
        }
        return best
    }
}
