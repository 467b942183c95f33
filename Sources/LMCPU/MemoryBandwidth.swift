import LMCPUKernels
import LMTensor

/// Measures this machine's memory bandwidth with the backend's own threads, as the ceiling
/// decode throughput is judged against (decode streams every weight once per token).
public enum MemoryBandwidth {
    public struct Measurement: Sendable {
        /// Bytes read per second by all threads summing a buffer larger than the caches.
        public var readBytesPerSecond: Double
        /// Bytes read plus written per second by all threads copying such a buffer.
        public var copyBytesPerSecond: Double
        public var bufferBytes: Int
    }

    /// Best of `repeats` passes over a buffer of `bytes` (default 1 GiB, beyond most L3 caches).
    public static func measure(backend: CPUBackend, bytes: Int = 1 << 30, repeats: Int = 5) -> Measurement {
        let count = bytes / 4
        let source = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let destination = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer {
            source.deallocate()
            destination.deallocate()
        }
        backend.parallelRanges(count, minChunk: 1 << 20) { range, _ in
            (source + range.lowerBound).initialize(repeating: 1, count: range.count)
            (destination + range.lowerBound).initialize(repeating: 0, count: range.count)
        }
        let chunk = 1 << 20
        let tasks = (count + chunk - 1) / chunk
        var bestRead = Double.infinity, bestCopy = Double.infinity
        for _ in 0..<repeats {
            var start = monotonicNanoseconds()
            backend.pool.parallelFor(tasks) { task, _ in
                let lower = task * chunk
                _ = backend.kernels.sum(source + lower, Int64(min(chunk, count - lower)))
            }
            bestRead = min(bestRead, Double(monotonicNanoseconds() - start) * 1e-9)
            start = monotonicNanoseconds()
            backend.pool.parallelFor(tasks) { task, _ in
                let lower = task * chunk
                (destination + lower).update(from: source + lower, count: min(chunk, count - lower))
            }
            bestCopy = min(bestCopy, Double(monotonicNanoseconds() - start) * 1e-9)
        }
        return Measurement(readBytesPerSecond: Double(bytes) / bestRead, copyBytesPerSecond: 2 * Double(bytes) / bestCopy,
                           bufferBytes: bytes)
    }
}
