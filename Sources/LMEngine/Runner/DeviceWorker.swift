#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMModels

/// The thread that runs prepared steps on the device, one after another in launch order, while
/// the core thread plans and prepares the next step and applies the previous one's results.
final class DeviceWorker: @unchecked Sendable {
    typealias StepResult = Result<ModelRunner.Output, Error>

    /// A launched step; `wait` blocks until the device finished it.
    struct Pending: Sendable {
        fileprivate let result = MessageQueue<StepResult>()
        func wait() -> StepResult { result.popAll(wait: true)!.first! }
    }

    private let runner: ModelRunner
    private let jobs = MessageQueue<(PreparedStep, Pending)>()
    private var thread: pthread_t?

    init(runner: ModelRunner) {
        self.runner = runner
        thread = startThread { [unowned self] in self.loop() }
    }

    func launch(_ step: PreparedStep) -> Pending {
        let pending = Pending()
        jobs.push((step, pending))
        return pending
    }

    /// Finishes the launched steps, then stops the thread.
    func shutdown() {
        jobs.close()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    private func loop() {
        var idleSince = monotonicSeconds()
        while let batch = jobs.popAll(wait: true) {
            let idle = monotonicSeconds() - idleSince
            for (index, (step, pending)) in batch.enumerated() {
                pending.result.push(Result {
                    var output = try runner.execute(step)
                    if index == 0 { output.timing.idleSeconds = idle }
                    return output
                })
            }
            idleSince = monotonicSeconds()
        }
    }
}
