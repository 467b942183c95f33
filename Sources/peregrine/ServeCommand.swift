import ArgumentParser
import LMEngine
import LMModels
import LMTensor
import LMServer
import LMTokenizers

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over the OpenAI API (completions, chat, streaming) until SIGTERM or SIGINT.")

    @Option(help: "A model folder or GGUF file (default: SmolLM2-135M-Instruct Q4_1, fetched on first use).")
    var model: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8000

    @Option(help: "The model's name in the API (default: the model folder or file name).")
    var servedModelName: String?

    @Option(help: "Require `Authorization: Bearer KEY` on /v1 endpoints.")
    var apiKey: String?

    @Option(help: "Longest prompt plus output a request may use (default: the model's context).")
    var maxModelLen: Int?

    @Option(help: "Requests running at once.")
    var maxNumSeqs = 256

    @Option(help: "Requests allowed to wait; more get 429.")
    var maxQueue = 1024

    @Option(help: "A Jinja file to use instead of the model's chat template.")
    var chatTemplate: String?

    @Option(help: "Seconds running requests get to finish after SIGTERM/SIGINT.")
    var shutdownTimeout = 30.0

    @Option(help: "Seconds a generation request may take before it is cut off (0: no limit).")
    var requestTimeout = 600.0

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        guard maxNumSeqs >= 1 else { throw ValidationError("--max-num-seqs must be at least 1") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must not be negative") }
        if let maxModelLen, maxModelLen < 1 { throw ValidationError("--max-model-len must be at least 1") }
        guard shutdownTimeout >= 0, shutdownTimeout.isFinite else { throw ValidationError("--shutdown-timeout must be a number of seconds") }
        guard requestTimeout >= 0, requestTimeout.isFinite else { throw ValidationError("--request-timeout must be a number of seconds") }
    }

    func run() async throws {
        let metrics = OpenAIServer.bootstrapMetrics()   // before the engine creates its metrics
        let path = try model ?? DefaultModel.resolve()
        let backend = try backendOptions.makeBackend()
        let slot = ServiceSlot { service, url in
            let blocks = service.engine.kvBlockCount, blockSize = service.engine.config.blockSize
            printRaw("peregrine: KV cache of \(blocks) blocks of \(blockSize) tokens (\(blocks * blockSize) tokens)\n")
            // The address ends the line: scripts and tests read it from there.
            printRaw("peregrine: serving \(service.settings.modelName) (\(backend.name)) at \(url)/v1\n")
        }
        try await OpenAIServer.run(slot, metrics: metrics, host: host, port: port, shutdownTimeout: shutdownTimeout,
                                   load: { try load(path: path, backend: backend) },
                                   onListening: { url in printRaw("peregrine: listening at \(url); loading \(path)\n") })
    }

    /// Loads the model and its tokenizer and starts the engine behind the API.
    func load(path: String, backend: any Backend) throws -> OpenAIService {
        try BackendOptions.checkSupported(try ModelLoader.inspect(path: path).1, on: backend)
        let loaded = try ModelLoader.load(path: path, backend: backend)
        let tokenizer = try TokenizerLoader.load(path: path)
        let template: ChatTemplate? = chatTemplate != nil || tokenizer.configuration.chatTemplate != nil
            ? try ChatTemplates.resolve(tokenizer: tokenizer, override: chatTemplate) : nil
        let contextLimit = loaded.spec.maxPositions
        if let maxModelLen, maxModelLen > contextLimit {
            throw CLIError("--max-model-len \(maxModelLen) exceeds the model's context of \(contextLimit) tokens")
        }
        var config = EngineConfig()
        config.scheduler.maxModelLen = maxModelLen ?? contextLimit
        config.scheduler.maxNumSeqs = maxNumSeqs
        config.scheduler.maxWaiting = maxQueue
        config.kvCacheBytes = try backendOptions.kvCacheBytes(for: loaded.model, scheduler: config.scheduler)
        let name = servedModelName ?? String(path.split(separator: "/").last ?? "model")
        config.modelName = name
        let engine = try Engine(model: loaded.model, tokenizer: tokenizer, config: config)
        let settings = ServerSettings(modelName: name, maxModelLen: config.scheduler.maxModelLen, apiKey: apiKey,
                                      requestTimeout: requestTimeout > 0 ? requestTimeout : nil)
        return OpenAIService(engine: engine, tokenizer: tokenizer, template: template, settings: settings)
    }
}
