import ArgumentParser
import LMCPU
import LMCUDA
import LMEngine
import LMModels
import LMTensor

struct BenchSchedulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Scheduler and KV bookkeeping cost per step with many running requests (no model).")

    @Option(help: "Running requests.")
    var requests: Int = 256

    @Option(help: "Steps to time.")
    var steps: Int = 2000

    func validate() throws {
        guard (1...100_000).contains(requests) else { throw ValidationError("--requests must be between 1 and 100000, got \(requests)") }
        guard (1...10_000_000).contains(steps) else { throw ValidationError("--steps must be between 1 and 10000000, got \(steps)") }
    }

    func run() throws {
        var config = SchedulerConfig()
        config.maxNumSeqs = requests
        config.maxNumBatchedTokens = 8192
        config.maxModelLen = 640 + steps + 1024
        // Enough blocks that nothing is preempted: this measures steady-state bookkeeping.
        let blockSize = 16
        var scheduler = Scheduler(config: config, kv: KVCacheManager(blockCount: requests * (config.maxModelLen / blockSize + 1),
                                                                     blockSize: blockSize))
        var random = RandomSource(seed: 1)
        for id in 0..<requests {
            let prompt = (0..<(64 + Int(random.nextUnit() * 512))).map { _ in Int32(random.nextUnit() * 32000) }
            try scheduler.add(SchedulerRequest(id: id, prompt: prompt, maxTokens: steps + 512))
        }
        // Bring every request into decode.
        while scheduler.requests.values.contains(where: { $0.computed < $0.tokens.count - 1 }) {
            let plan = scheduler.schedule()
            var sampled: [RequestID: Int32] = [:]
            for chunk in plan.chunks where chunk.samples { sampled[chunk.id] = 1 }
            _ = scheduler.update(plan, sampled: sampled)
        }
        var scheduleTime = 0.0, updateTime = 0.0
        for _ in 0..<steps {
            var start = monotonicSeconds()
            let plan = scheduler.schedule()
            scheduleTime += monotonicSeconds() - start
            var sampled: [RequestID: Int32] = [:]
            for chunk in plan.chunks where chunk.samples { sampled[chunk.id] = Int32(random.nextUnit() * 32000) }
            start = monotonicSeconds()
            _ = scheduler.update(plan, sampled: sampled)
            updateTime += monotonicSeconds() - start
        }
        guard scheduler.running.count == requests, scheduler.preemptions == 0 else {
            throw CLIError("internal: \(scheduler.running.count) of \(requests) requests running, \(scheduler.preemptions) preemptions")
        }
        var table = TextTable(header: ["running requests", "schedule µs/step", "update µs/step", "total µs/step"])
        let s = scheduleTime / Double(steps) * 1e6, u = updateTime / Double(steps) * 1e6
        table.rows.append(["\(requests)", format(s, decimals: 1), format(u, decimals: 1), format(s + u, decimals: 1)])
        print("scheduler bookkeeping, \(steps) decode steps (block size \(blockSize), prefix caching on, no preemption), on \(CPUInfo.modelName)\n")
        print(table.render())
    }
}

struct BenchEngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Offline throughput of the engine: total generated tokens/s at several numbers of concurrent requests.")

    @Option(help: "A model folder or GGUF file (default: the default model).")
    var model: String?

    @Option(help: "Concurrent requests, comma separated.")
    var concurrency: String = "1,8,64"

    @Option(help: "Prompt tokens per request.")
    var promptTokens: Int = 64

    @Option(help: "Generated tokens per request.")
    var outputTokens: Int = 64

    @Option(help: "Sampling temperature (0: greedy).")
    var temperature: Float = 0

    @Option(help: "Nucleus sampling: keep the most likely tokens holding this much probability.")
    var topP: Float = 1

    @Option(help: "Repetition penalty (1: none).")
    var repetitionPenalty: Float = 1

    @Option(help: "Frequency penalty (0: none).")
    var frequencyPenalty: Float = 0

    @Flag(help: "Plan each step only after the previous one's results are applied (default: plan the next while the device runs one).")
    var syncScheduling = false

    @Flag(help: "Read each step's tokens back before launching the next (default: launch the next first where its draws allow).")
    var noLaunchAhead = false

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "First run the same number of requests, 8 tokens each, on the same engine, untimed.",
        discussion: "A server's steady state: batch sizes seen before have their CUDA graphs recorded and their cuBLASLt plans built (llama-bench and vLLM's benchmarks warm up too)."))
    var warmup = true

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard promptTokens >= 1 else { throw ValidationError("--prompt-tokens must be at least 1, got \(promptTokens)") }
        guard outputTokens >= 1 else { throw ValidationError("--output-tokens must be at least 1, got \(outputTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be at least 0, got \(temperature)") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw ValidationError("--repetition-penalty must be above 0, got \(repetitionPenalty)") }
        guard frequencyPenalty >= -2, frequencyPenalty <= 2 else { throw ValidationError("--frequency-penalty must be in [-2, 2], got \(frequencyPenalty)") }
    }

    func run() async throws {
        let levels = try concurrency.split(separator: ",").map { part in
            guard let n = Int(part.filter { !$0.isWhitespace }), n > 0 else { throw CLIError("--concurrency: \"\(part)\" is not a positive number") }
            return n
        }
        let backend = try backendOptions.makeBackend()
        let path = try model ?? DefaultModel.resolve()
        try BackendOptions.checkSupported(try ModelLoader.inspect(path: path).1, on: backend)
        let loaded = try ModelLoader.load(path: path, backend: backend)
        print("device: \(backend.name) on \(CPUInfo.modelName); model \(loaded.path.split(separator: "/").last ?? "")")
        print("each request: \(promptTokens) prompt tokens (distinct, no prefix sharing), \(outputTokens) generated, "
              + (temperature == 0 ? "greedy" : "sampled at temperature \(temperature), top-p \(topP)")
              + (repetitionPenalty == 1 && frequencyPenalty == 0 ? "" : ", repetition penalty \(repetitionPenalty), frequency penalty \(frequencyPenalty)") + "; "
              + "\(syncScheduling ? "synchronous" : "asynchronous") scheduling\(noLaunchAhead ? ", no launch ahead" : "")"
              + (warmup ? "; after an untimed warm-up (same concurrency, 8 tokens each)\n" : "; no warm-up\n"))
        var table = TextTable(header: ["concurrent requests", "wall s", "output tok/s", "total tok/s", "per-request tok/s", "decode-phase tok/s",
                                       "full-width decode steps tok/s", "their ms: queue + wait + idle", "launched ahead"])
        for level in levels {
            var config = EngineConfig()
            config.scheduler.maxNumSeqs = max(level, 1)
            config.scheduler.maxNumBatchedTokens = 2048
            config.prefixCaching = false
            config.asyncScheduling = !syncScheduling
            config.launchAhead = !noLaunchAhead
            config.kvCacheBytes = try backendOptions.kvCacheBytes(for: loaded.model, scheduler: config.scheduler)
            let engine = try Engine(model: loaded.model, tokenizer: nil, config: config)
            if warmup { _ = try await measure(engine, level: level, vocabulary: loaded.spec.vocabSize, outputTokens: min(outputTokens, 8), seed: 1) }
            let result = try await measure(engine, level: level, vocabulary: loaded.spec.vocabSize, outputTokens: outputTokens, seed: 0)
            engine.shutdown()
            let generated = Double(level * outputTokens), total = Double(level * (outputTokens + promptTokens))
            table.rows.append(["\(level)", format(result.wall, decimals: 2), format(generated / result.wall, decimals: 1),
                               format(total / result.wall, decimals: 1), format(Double(outputTokens) / result.wall, decimals: 1),
                               format(result.decodeRate, decimals: 1)] + Self.describe(result.fullWidthSteps, width: level))
        }
        print(table.render())
        if let cuda = backend as? CUDABackend, cuda.stepGraphCounts.replayed > 0 {
            let replayed = cuda.stepGraphCounts.replayed
            print("CUDA graphs: \(replayed) steps replayed, \(format(1e6 * cuda.stepGraphLaunchSeconds / Double(replayed), decimals: 1)) µs of host time each in cuGraphLaunch")
        }
        if let profiler = (backend as? CUDABackend)?.profiler {
            print("\n" + kernelProfileTable("all levels:", profiler.report()))
        }
    }

    /// Steps where all `width` requests decode one token each (what llama-batched-bench's decode
    /// rate counts): tokens/s over the wall time between their tokens' arrivals, and the device
    /// worker's milliseconds per step queuing it (host), waiting for the device, idle until the
    /// next step came, and the share launched ahead.
    private static func describe(_ timing: StepTiming, width: Int) -> [String] {
        guard timing.steps > 0 else { return ["-", "-", "-"] }
        let n = Double(timing.steps)
        return [format(Double(width) * n / timing.periodSeconds, decimals: 1),
                "\(format(1000 * timing.hostSeconds / n, decimals: 2)) + \(format(1000 * timing.waitSeconds / n, decimals: 2)) + \(format(1000 * timing.idleSeconds / n, decimals: 2))",
                "\(Int((100 * Double(timing.launchedAhead) / n).rounded()))%"]
    }

    /// Wall seconds for all requests, the decode-phase rate (tokens produced after the last
    /// request got its first token, when every request is decoding, over the time since) and the
    /// device worker's time in steps where all `level` requests decoded.
    /// - Parameter seed: varies the prompts (a warm-up's are not the measured ones).
    private func measure(_ engine: Engine, level: Int, vocabulary: Int, outputTokens: Int, seed: Int) async throws
        -> (wall: Double, decodeRate: Double, fullWidthSteps: StepTiming) {
        let before = engine.stats.decodeStepTiming[level] ?? StepTiming()
        var parameters = SamplingParameters()
        parameters.temperature = temperature
        parameters.topP = topP
        parameters.repetitionPenalty = repetitionPenalty
        parameters.frequencyPenalty = frequencyPenalty
        parameters.seed = 1
        parameters.maxTokens = outputTokens
        parameters.ignoreEOS = true
        let start = monotonicSeconds()
        let arrivals = try await withThrowingTaskGroup(of: [(Double, Int)].self) { group in
            for r in 0..<level {
                let prompt = (0..<promptTokens).map { Int32((r * 7919 + $0 * 104_729 + seed * 31) % vocabulary) }
                let stream = try engine.generate(GenerationRequest(prompt: prompt, parameters: parameters))
                group.addTask {
                    var times: [(Double, Int)] = []
                    for try await output in stream where !output.tokens.isEmpty { times.append((monotonicSeconds(), output.tokens.count)) }
                    return times
                }
            }
            var all: [[(Double, Int)]] = []
            for try await times in group { all.append(times) }
            return all
        }
        let end = monotonicSeconds()
        let lastFirstToken = arrivals.compactMap { $0.first?.0 }.max() ?? end
        let decoded = arrivals.reduce(0) { sum, times in sum + times.filter { $0.0 > lastFirstToken }.reduce(0) { $0 + $1.1 } }
        return (end - start, end > lastFirstToken ? Double(decoded) / (end - lastFirstToken) : 0,
                (engine.stats.decodeStepTiming[level] ?? StepTiming()) - before)
    }
}
