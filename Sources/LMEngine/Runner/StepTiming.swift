/// Where the device worker's wall time goes, summed over steps: queuing a step's work (building
/// its inputs, uploading them, launching the kernels or the recorded graph), waiting for the
/// device to finish it (the sampled tokens coming back), and idling until the core thread hands
/// over the next step. The device is idle at least while the host queues and the worker idles,
/// which is what overlapping steps would hide.
public struct StepTiming: Sendable, Equatable {
    public var steps = 0
    public var hostSeconds = 0.0
    public var waitSeconds = 0.0
    public var idleSeconds = 0.0

    public init() {}

    public static func += (total: inout StepTiming, step: StepTiming) {
        total.steps += step.steps
        total.hostSeconds += step.hostSeconds
        total.waitSeconds += step.waitSeconds
        total.idleSeconds += step.idleSeconds
    }

    /// The steps of `total` since `earlier` was taken.
    public static func - (total: StepTiming, earlier: StepTiming) -> StepTiming {
        var result = total
        result.steps -= earlier.steps
        result.hostSeconds -= earlier.hostSeconds
        result.waitSeconds -= earlier.waitSeconds
        result.idleSeconds -= earlier.idleSeconds
        return result
    }
}
