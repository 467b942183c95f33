#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMCPUKernels
import Synchronization

/// Persistent worker threads for the CPU backend's data-parallel loops. The calling thread takes
/// part as worker 0, so `threadCount` threads compute. Workers spin briefly between loops (ops
/// follow each other within microseconds during a forward pass) and then sleep, so an idle
/// server costs no CPU. Loops never run on Swift's cooperative pool (DESIGN.md rule 11).
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private let shared: PoolShared
    private var threads: [pthread_t] = []

    /// - Parameter threadCount: computing threads including the caller (at least 1).
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        shared = PoolShared()
        for index in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerContext(shared: shared, index: index)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.shared.workerLoop(index: context.index)
                return nil
            }, context)
            precondition(rc == 0, "pthread_create failed with \(rc)")
            threads.append(thread)
        }
    }

    deinit {
        shared.shutdown()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `body(task, thread)` for every task in `0..<taskCount`, spread over the threads, and
    /// returns when all are done. `thread` is in `0..<threadCount` (for per-thread scratch).
    /// Not reentrant: call from one thread at a time, and not from inside `body`.
    public func parallelFor(_ taskCount: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        if taskCount <= 0 { return }
        if taskCount == 1 || threadCount == 1 {
            for task in 0..<taskCount { body(task, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            shared.run(taskCount: taskCount, workers: threadCount - 1, body: escapable)
        }
    }
}

private final class WorkerContext {
    let shared: PoolShared
    let index: Int
    init(shared: PoolShared, index: Int) {
        self.shared = shared
        self.index = index
    }
}

/// State shared by the caller and the workers. A loop is published by storing its body and
/// counters, then bumping `generation`; each worker claims tasks from `nextTask` and decrements
/// `busyWorkers` when the counter runs out. The caller returns only after every worker has
/// finished, so `body` never outlives `parallelFor`.
private final class PoolShared: @unchecked Sendable {
    let generation = Atomic<Int>(0)
    let nextTask = Atomic<Int>(0)
    let busyWorkers = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    // Written by the caller before `generation` is bumped (release) and read by workers after
    // they observe the bump (acquire).
    var taskCount = 0
    var body: ((Int, Int) -> Void)?

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// How long a worker polls for the next loop before sleeping.
    private static let spinNanoseconds: UInt64 = 2_000_000

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func run(taskCount: Int, workers: Int, body: @escaping (Int, Int) -> Void) {
        self.taskCount = taskCount
        self.body = body
        nextTask.store(0, ordering: .relaxed)
        busyWorkers.store(workers, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
        runTasks(thread: 0)
        while busyWorkers.load(ordering: .acquiring) != 0 { lm_cpu_relax() }
        self.body = nil
    }

    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    func workerLoop(index: Int) {
        // The pool was created at generation 0; a loop may already be published by the time
        // this thread starts, and it must take part in it.
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            if stopping.load(ordering: .acquiring) { return }
            runTasks(thread: index)
            busyWorkers.subtract(1, ordering: .releasing)
        }
    }

    private func runTasks(thread: Int) {
        let count = taskCount
        guard let body else { return }
        while true {
            let task = nextTask.add(1, ordering: .relaxed).oldValue
            if task >= count { return }
            body(task, thread)
        }
    }

    private func wakeSleepers() {
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
    }

    private func waitForGeneration(after seen: Int) -> Int {
        let start = monotonicNanoseconds()
        var polls = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            lm_cpu_relax()
            polls += 1
            if polls & 255 == 0 && monotonicNanoseconds() - start > Self.spinNanoseconds { break }
        }
        pthread_mutex_lock(mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var current = generation.load(ordering: .sequentiallyConsistent)
        while current == seen {
            pthread_cond_wait(condition, mutex)
            current = generation.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
        return current
    }
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
