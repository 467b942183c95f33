import ArgumentParser
import LMCPU
import LMCUDA
import LMModels
import LMTensor

struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Prefill and decode tokens/s of whole models, with decode bandwidth against the measured ceiling.",
        discussion: "Without --model or --preset it runs the presets tiny and smollm2-135m (random bf16 weights with real shapes).")

    @Option(help: "A Hugging Face model folder to benchmark (repeatable).")
    var model: [String] = []

    @Option(help: "A preset shape with random weights: \(ModelPresets.names.joined(separator: ", ")) (repeatable).")
    var preset: [String] = []

    @Option(help: "Weight dtype of presets: bf16, f16 or f32.")
    var dtype: String = "bf16"

    @Option(help: "Prompt tokens of the prefill measurement.")
    var promptTokens: Int = 128

    @Option(help: "Tokens generated in the decode measurement (after the prompt).")
    var decodeTokens: Int = 64

    @Option(help: "Repetitions; the best is reported.")
    var repeats: Int = 3

    @OptionGroup var backendOptions: BackendOptions


    func validate() throws {
        for name in preset where ModelPresets.spec(named: name) == nil {
            throw ValidationError("unknown preset \"\(name)\" (known: \(ModelPresets.names.joined(separator: ", ")))")
        }
        guard ["bf16", "f16", "f32"].contains(dtype) else { throw ValidationError("--dtype must be bf16, f16 or f32") }
        guard promptTokens > 0, decodeTokens > 0, repeats > 0 else {
            throw ValidationError("--prompt-tokens, --decode-tokens and --repeats must be positive")
        }
    }

    func run() throws {
        let backend = try backendOptions.makeBackend()
        print("device: \(backend.name) on \(CPUInfo.modelName)")
        let ceilingBytesPerSecond: Double
        if let cpu = backend as? CPUBackend {
            let ceiling = MemoryBandwidth.measure(backend: cpu)
            ceilingBytesPerSecond = ceiling.readBytesPerSecond
            print("memory bandwidth (measured, 1 GiB buffer): read \(format(ceiling.readBytesPerSecond / 1e9, decimals: 1)) GB/s, copy \(format(ceiling.copyBytesPerSecond / 1e9, decimals: 1)) GB/s")
        } else if let cuda = backend as? CUDABackend {
            let ceiling = try CUDABandwidth.measure(cuda.device)
            ceilingBytesPerSecond = max(ceiling.memcpy, ceiling.kernel)
            print("device memory bandwidth (measured, 2 GiB device-to-device copy, read + written): memcpy \(format(ceiling.memcpy / 1e9, decimals: 0)) GB/s, "
                  + "copy kernel \(format(ceiling.kernel / 1e9, decimals: 0)) GB/s")
        } else {
            ceilingBytesPerSecond = .nan
        }
        print("prefill: one \(promptTokens)-token step; decode: \(decodeTokens) tokens one at a time from a 1-token prompt (as llama-bench pp/tg; each step launched before the previous token is read back); capped to a model's context; best of \(repeats)\n")

        var table = TextTable(header: ["model", "params", "weights", "load s", "prefill tok/s", "decode tok/s", "ms/token", "decode GB/s", "of BW ceiling"])
        var targets: [(String, () throws -> DecoderModel)] = model.map { path in
            (path.split(separator: "/").last.map(String.init) ?? path, { try ModelLoader.load(path: path, backend: backend).model })
        }
        let presets = model.isEmpty && preset.isEmpty ? ["tiny", "smollm2-135m"] : preset
        let weightType: DType = dtype == "f16" ? .f16 : dtype == "f32" ? .f32 : .bf16
        for name in presets {
            let spec = ModelPresets.spec(named: name)!
            targets.append(("\(name) (random \(dtype))", {
                try DecoderModel(spec: spec, source: RandomWeights(spec: spec, dtype: weightType), names: .huggingFace, backend: backend)
            }))
        }
        var allProfiles: [(String, [CUDAProfiler.Entry])] = []
        for (label, make) in targets {
            // Load: read, convert and upload the weights (waiting for the device's copies).
            let loadStart = monotonicSeconds()
            let model = try make()
            try (model.backend as? CUDABackend)?.device.synchronize()
            let loadSeconds = monotonicSeconds() - loadStart
            let result = try measure(model)
            allProfiles += result.profiles.map { ("\(label) \($0.0)", $0.1) }
            let context = min(decodeTokens, model.spec.maxPositions / 2) / 2
            let bytes = Double(model.weightBytesPerToken + model.kvBytesPerToken(context: context))
            let perToken = 1 / result.decode
            table.rows.append([label, formatCount(model.spec.parameterCount), formatBytes(model.weightBytesPerToken), format(loadSeconds, decimals: 2),
                               format(result.prefill, decimals: 1), format(result.decode, decimals: 1),
                               format(perToken * 1000, decimals: 2), format(bytes / perToken / 1e9, decimals: 1),
                               format(100 * bytes / perToken / ceilingBytesPerSecond, decimals: 0) + "%"])
        }
        print(table.render())
        for (phase, report) in allProfiles { print("\n" + kernelProfileTable(phase, report)) }
    }

    /// Best prefill and decode tokens/s over the repeats. Prefill runs the whole prompt as one
    /// step; decode starts from a one-token prompt and generates one token per step, as
    /// llama-bench's pp and tg tests do.
    private func measure(_ model: DecoderModel) throws -> (prefill: Double, decode: Double, profiles: [(String, [CUDAProfiler.Entry])]) {
        var profiles: [(String, [CUDAProfiler.Entry])] = []
        // Stay within the model's context (the tiny fixtures have 256 positions).
        let decodeTokens = min(self.decodeTokens, model.spec.maxPositions / 2)
        let promptTokens = min(self.promptTokens, model.spec.maxPositions - decodeTokens)
        let prompt = (0..<promptTokens).map { Int32($0 * 7919 % model.spec.vocabSize) }
        let session = try SequenceSession(model: model, capacity: max(promptTokens, decodeTokens + 1))
        _ = try session.extend(prompt)  // warm-up: pages weights in, sizes buffers
        var bestPrefill = 0.0, bestDecode = 0.0
        for _ in 0..<repeats {
            session.reset()
            let start = monotonicSeconds()
            _ = model.backend.argmax(try session.extend(prompt))   // argmax waits for the device
            bestPrefill = max(bestPrefill, Double(promptTokens) / (monotonicSeconds() - start))
            // Tokens after the first, each step launched before the previous token is read back.
            let decoded = try GreedyGenerator(session: session).generate(prompt: [prompt[0]], maxNewTokens: decodeTokens + 1)
            bestDecode = max(bestDecode, Double(decodeTokens) / decoded.decodeSeconds)
        }
        if let profiler = (model.backend as? CUDABackend)?.profiler {
            // One more pass of each, kernel by kernel (slower: every op waits for the device).
            session.reset()
            profiler.reset()
            _ = model.backend.argmax(try session.extend(prompt))
            profiles.append(("prefill \(promptTokens)", profiler.report()))
            session.reset()
            var token = model.backend.argmax(try session.extend([prompt[0]]))[0]
            profiler.reset()
            for _ in 0..<decodeTokens { token = model.backend.argmax(try session.extend([token]))[0] }
            profiles.append(("decode (\(decodeTokens) tokens)", profiler.report()))
        }
        session.reset()
        return (bestPrefill, bestDecode, profiles)
    }
}
