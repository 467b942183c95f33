import LMCPU
import Synchronization
import Testing

@Suite struct ThreadPoolTests {
    /// Every task runs exactly once, on a valid thread index, across many loops of varying
    /// size (including loops published while workers sleep).
    @Test(arguments: [1, 2, 3, 8])
    func everyTaskRunsExactlyOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        for round in 0..<300 {
            let count = [0, 1, 2, 3, 7, 64, 1000][round % 7]
            // Each task owns its slot, so a task run twice shows up as a 2.
            var hits = [Int](repeating: 0, count: count)
            var threadOfTask = [Int](repeating: -1, count: count)
            hits.withUnsafeMutableBufferPointer { counters in
                threadOfTask.withUnsafeMutableBufferPointer { owners in
                    pool.parallelFor(count) { task, thread in
                        counters[task] += 1
                        owners[task] = thread
                    }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 }, "round \(round), \(count) tasks")
            #expect(threadOfTask.allSatisfy { $0 >= 0 && $0 < threads })
        }
    }

    @Test func poolsComeAndGo() {
        for _ in 0..<50 {
            let pool = ThreadPool(threadCount: 3)
            let sum = Atomic<Int>(0)
            pool.parallelFor(100) { task, _ in sum.add(task, ordering: .relaxed) }
            #expect(sum.load(ordering: .relaxed) == 4950)
        }
    }
}
