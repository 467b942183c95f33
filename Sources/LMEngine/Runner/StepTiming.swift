/// Where the device worker's wall time goes, summed over steps: queuing a step's work (building
/// its inputs, uploading them, launching the kernels or the recorded graph, queuing the draws),
/// waiting for its sampled tokens to come back, and idling until the core thread hands over the
/// next step (the three add up to the worker's wall time). A step launched while the one before
/// still runs (`ModelRunner.canLaunch`) hides its queuing from the device; otherwise the device
/// is idle at least while the host queues and the worker idles.
public struct StepTiming: Sendable, Equatable {
    public var steps = 0
    public var hostSeconds = 0.0
    public var waitSeconds = 0.0
    public var idleSeconds = 0.0
    /// Wall time from the previous step's tokens reaching the host to this step's: the step's
    /// share of the device's throughput, whether or not steps overlapped.
    public var periodSeconds = 0.0
    /// Steps launched while the step before was still in flight (its tokens fed on the device).
    public var launchedAhead = 0

    public init() {}

    public static func += (total: inout StepTiming, step: StepTiming) {
        total.steps += step.steps
        total.hostSeconds += step.hostSeconds
        total.waitSeconds += step.waitSeconds
        total.idleSeconds += step.idleSeconds
        total.periodSeconds += step.periodSeconds
        total.launchedAhead += step.launchedAhead
    }

    /// The steps of `total` since `earlier` was taken.
    public static func - (total: StepTiming, earlier: StepTiming) -> StepTiming {
        var result = total
        result.steps -= earlier.steps
        result.hostSeconds -= earlier.hostSeconds
        result.waitSeconds -= earlier.waitSeconds
        result.idleSeconds -= earlier.idleSeconds
        result.periodSeconds -= earlier.periodSeconds
        result.launchedAhead -= earlier.launchedAhead
        return result
    }
}
