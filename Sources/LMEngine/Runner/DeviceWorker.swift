#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMModels
import LMTensor

/// The thread that runs prepared steps on the device, one after another in launch order, while
/// the core thread plans and prepares the next step and applies the previous one's results.
///
/// The worker keeps one step in flight: when step N+1 arrives it is launched (where the runner
/// allows it) before step N's tokens are read back, so the device never waits for the host
/// between steps. A step is finished when a later step needs it to be, or when the core thread
/// waits for it (`wait` asks the worker to finish it).
final class DeviceWorker: @unchecked Sendable {
    typealias StepResult = Result<ModelRunner.Output, Error>

    /// A launched step; `DeviceWorker.wait` blocks until the device finished it.
    struct Pending: Sendable {
        fileprivate let index: Int
        fileprivate let result = MessageQueue<StepResult>()
    }

    private enum Job {
        case launch(PreparedStep, Pending)
        /// Finish every step up to this index.
        case finish(Int)
    }

    private let runner: ModelRunner
    private let launchAhead: Bool
    private let jobs = MessageQueue<Job>()
    private var thread: pthread_t?
    /// Launches so far (core thread only).
    private var launchCount = 0

    /// - Parameter launchAhead: launch a step before the one in flight is read back, where allowed.
    init(runner: ModelRunner, launchAhead: Bool = true) {
        self.runner = runner
        self.launchAhead = launchAhead
        thread = startThread { [unowned self] in self.loop() }
    }

    /// Hands `step` to the worker (core thread only).
    func launch(_ step: PreparedStep) -> Pending {
        let pending = Pending(index: launchCount)
        launchCount += 1
        jobs.push(.launch(step, pending))
        return pending
    }

    /// The result of a launched step, once the device finished it.
    func wait(_ pending: Pending) -> StepResult {
        jobs.push(.finish(pending.index))
        return pending.result.popAll(wait: true)!.first!
    }

    /// Finishes the launched steps, then stops the thread.
    func shutdown() {
        jobs.close()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    private func loop() {
        var inFlight: (step: ModelRunner.LaunchedStep, pending: Pending)?
        // Time spent waiting for the core thread, charged to the next step launched.
        var idle = 0.0, idleSince = monotonicSeconds(), lastFinished = idleSince
        func finishInFlight() {
            guard let (step, pending) = inFlight else { return }
            inFlight = nil
            var output = runner.finish(step)
            let now = monotonicSeconds()
            output.timing.periodSeconds = now - lastFinished
            lastFinished = now
            pending.result.push(.success(output))
        }
        while let batch = jobs.popAll(wait: true) {
            idle += monotonicSeconds() - idleSince
            for job in batch {
                switch job {
                case let .finish(index):
                    if let current = inFlight, current.pending.index <= index { finishInFlight() }
                case let .launch(step, pending):
                    let ahead = launchAhead && (inFlight.map { runner.canLaunch(step, before: $0.step) } ?? false)
                    if !ahead { finishInFlight() }
                    do {
                        var launched = try runner.launch(step, after: inFlight?.step)
                        launched.output.timing.idleSeconds = idle
                        if ahead { launched.output.timing.launchedAhead = 1 }
                        idle = 0
                        finishInFlight()
                        inFlight = (launched, pending)
                    } catch {
                        finishInFlight()
                        pending.result.push(.failure(error))
                    }
                }
            }
            idleSince = monotonicSeconds()
        }
        finishInFlight()
    }
}
