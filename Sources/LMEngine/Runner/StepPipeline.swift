/// The device side of the engine's step pipeline without its threads: steps run in planning
/// order, and (with `launchAhead`) each is launched before the step before it is finished where
/// the runner allows it, as the device worker does. For driving a runner step by step (tests,
/// `check-backend`); the engine's worker interleaves the same sequence with its job queue.
public struct StepPipeline {
    public let runner: ModelRunner
    public let launchAhead: Bool
    private var inFlight: (plan: SchedulerOutput, step: ModelRunner.LaunchedStep)?
    /// Steps launched before the step before them was finished.
    public private(set) var launchedAhead = 0

    public init(runner: ModelRunner, launchAhead: Bool = true) {
        self.runner = runner
        self.launchAhead = launchAhead
    }

    /// Whether a launched step is still to be finished.
    public var hasStepInFlight: Bool { inFlight != nil }

    /// Launches `step` (prepared from `plan`) and returns the steps finished meanwhile, oldest
    /// first: the one before it, either before the launch (when it may not go ahead) or after.
    public mutating func run(_ plan: SchedulerOutput, _ step: PreparedStep) throws -> [(plan: SchedulerOutput, output: ModelRunner.Output)] {
        var finished: [(plan: SchedulerOutput, output: ModelRunner.Output)] = []
        if let previous = inFlight, !(launchAhead && runner.canLaunch(step, before: previous.step)) {
            finished.append((previous.plan, runner.finish(previous.step)))
            inFlight = nil
        }
        let launched = try runner.launch(step, after: inFlight?.step)
        if let previous = inFlight {
            launchedAhead += 1
            finished.append((previous.plan, runner.finish(previous.step)))
        }
        inFlight = plan.isEmpty ? nil : (plan, launched)   // an empty step has nothing to finish
        return finished
    }

    /// Finishes the step in flight, if any.
    public mutating func drain() -> [(plan: SchedulerOutput, output: ModelRunner.Output)] {
        guard let previous = inFlight else { return [] }
        inFlight = nil
        return [(previous.plan, runner.finish(previous.step))]
    }
}
