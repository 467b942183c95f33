import ArgumentParser
import AsyncHTTPClient
import Foundation
import LMBench

/// `peregrine bench serve`: load-tests any OpenAI-compatible server the way vLLM's
/// `bench serve` does and prints throughput and latency (TTFT, TPOT, ITL, end to end).
struct BenchServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load-test an OpenAI-compatible server: Poisson arrivals, streaming, TTFT/TPOT/ITL/latency and goodput.")

    @Option(help: "The server's base URL.")
    var baseURL = "http://127.0.0.1:8000"

    @Option(help: "Model name to request (default: the first one /v1/models lists).")
    var model: String?

    @Option(help: "completions or chat.")
    var endpoint = "completions"

    @Option(help: "random or sharegpt (a ShareGPT-like length distribution).")
    var dataset = "random"

    @Option(help: "Number of requests.")
    var numPrompts = 100

    @Option(help: "Prompt tokens per request (random dataset).")
    var randomInputLen = 256

    @Option(help: "Output tokens per request (random dataset).")
    var randomOutputLen = 64

    @Option(help: "Lengths vary uniformly by ± this fraction (random dataset).")
    var randomRangeRatio = 0.0

    @Option(help: "Prompts as text (words) or ids (random token ids; needs --vocab-size, completions only).")
    var promptFormat = "text"

    @Option(help: "Token ids are drawn below this (with --prompt-format ids).")
    var vocabSize: Int?

    @Option(help: "Requests per second (Poisson arrivals), or inf to send all at once.")
    var requestRate = "inf"

    @Option(help: "Most requests in flight at once (default: no limit).")
    var maxConcurrency: Int?

    @Flag(help: "Ask the server to ignore end-of-sequence tokens, so every request generates its full length.")
    var ignoreEos = false

    @Option(help: "Seed for prompts, lengths and arrival times.")
    var seed: UInt64 = 0

    @Option(help: "Latency targets for goodput in milliseconds, e.g. ttft=500,tpot=50 (keys ttft, tpot, e2el).")
    var slo: String?

    @Option(help: "Write the full result as JSON to this file.")
    var resultFile: String?

    @Option(help: "Series name for `bench plot` (default: the model and endpoint).")
    var label: String?

    @Option(help: "Sent as `Authorization: Bearer KEY`.")
    var apiKey: String?

    @Flag(help: "Do not draw the progress bar.")
    var noProgress = false

    func validate() throws {
        guard ServeClient.Endpoint(rawValue: endpoint) != nil else { throw ValidationError("--endpoint must be completions or chat, got \(endpoint)") }
        guard ["random", "sharegpt"].contains(dataset) else { throw ValidationError("--dataset must be random or sharegpt, got \(dataset)") }
        guard let format = BenchDataset.PromptFormat(rawValue: promptFormat) else { throw ValidationError("--prompt-format must be text or ids, got \(promptFormat)") }
        guard numPrompts >= 1 else { throw ValidationError("--num-prompts must be at least 1") }
        guard randomInputLen >= 1, randomOutputLen >= 1 else { throw ValidationError("--random-input-len and --random-output-len must be at least 1") }
        guard (0..<1).contains(randomRangeRatio) else { throw ValidationError("--random-range-ratio must be in [0, 1)") }
        if format == .ids {
            guard let vocabSize, vocabSize >= 1 else { throw ValidationError("--prompt-format ids needs --vocab-size N (the model's vocabulary size)") }
            guard endpoint == "completions" else { throw ValidationError("--prompt-format ids needs --endpoint completions") }
        }
        _ = try rate()
        if let maxConcurrency, maxConcurrency < 1 { throw ValidationError("--max-concurrency must be at least 1") }
        if let slo { _ = try ServiceLevelObjectives(parsing: slo) }
        guard URL(string: baseURL)?.scheme?.hasPrefix("http") == true else { throw ValidationError("--base-url must be an http(s) URL, got \(baseURL)") }
    }

    func rate() throws -> Double {
        if requestRate == "inf" { return .infinity }
        guard let value = Double(requestRate), value > 0, value.isFinite else {
            throw ValidationError("--request-rate must be a positive number of requests per second or inf, got \(requestRate)")
        }
        return value
    }

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, min(maxConcurrency ?? numPrompts, 4096))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await benchmark(http)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func benchmark(_ http: HTTPClient) async throws {
        let name: String
        if let model { name = model } else { name = try await firstModel(http) }
        let client = ServeClient(http: http, baseURL: baseURL, model: name, endpoint: ServeClient.Endpoint(rawValue: endpoint)!,
                                 ignoreEOS: ignoreEos, apiKey: apiKey)
        let source: BenchDataset = dataset == "random"
            ? .random(inputLength: randomInputLen, outputLength: randomOutputLen, rangeRatio: randomRangeRatio) : .shareGPTLike
        let requests = source.requests(count: numPrompts, format: BenchDataset.PromptFormat(rawValue: promptFormat)!,
                                       vocabularySize: vocabSize ?? 1, seed: seed)
        let setup = ServeBenchmark.Setup(client: client, requests: requests, datasetName: dataset, label: label ?? "\(name) (\(endpoint))",
                                         requestRate: try rate(), maxConcurrency: maxConcurrency, seed: seed)
        let bar = ProgressBar(enabled: !noProgress && isatty(STDERR_FILENO) != 0)
        printRaw("peregrine bench serve: \(numPrompts) requests to \(baseURL) (\(name)), rate \(requestRate)/s, "
                 + "concurrency \(maxConcurrency.map(String.init) ?? "unlimited")\n")
        let (records, duration) = await ServeBenchmark(setup).run { done, total in bar.update(done, total) }
        bar.finish()
        let objectives = try slo.map { try ServiceLevelObjectives(parsing: $0) }
        let result = BenchResult(records: records, duration: duration, slo: objectives, setup: setup,
                                 date: ISO8601DateFormatter().string(from: Date()))
        printRaw(Self.report(result) + "\n")
        if let firstError = records.compactMap(\.error).first {
            printRaw("first error: \(firstError)\n")
        }
        if let resultFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(result).write(to: URL(fileURLWithPath: resultFile))
            printRaw("result written to \(resultFile)\n")
        }
    }

    /// The served model's name from `/v1/models`.
    private func firstModel(_ http: HTTPClient) async throws -> String {
        var request = HTTPClientRequest(url: baseURL.trimmingCharacters(in: ["/"]) + "/v1/models")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer " + apiKey) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(30))
        } catch {
            throw CLIError("cannot reach \(baseURL): \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        struct Models: Decodable { struct Model: Decodable { var id: String }; var data: [Model] }
        guard response.status == .ok, let first = try? JSONDecoder().decode(Models.self, from: Data(buffer: body)).data.first else {
            throw CLIError("\(baseURL)/v1/models answered \(response.status.code) with no model; pass --model")
        }
        return first.id
    }

    static func report(_ result: BenchResult) -> String {
        func number(_ value: Double) -> String { String(format: "%.2f", value) }
        var table = TextTable(header: ["metric", "value"])
        table.rows = [
            ["successful requests", "\(result.completed)"],
            ["failed requests", "\(result.failed)"],
            ["duration (s)", number(result.duration)],
            ["total input tokens", "\(result.totalInputTokens)"],
            ["total output tokens", "\(result.totalOutputTokens)"],
            ["request throughput (req/s)", number(result.requestThroughput)],
            ["output throughput (tok/s)", number(result.outputThroughput)],
            ["total throughput (tok/s)", number(result.totalTokenThroughput)],
        ]
        if let goodput = result.requestGoodput { table.rows.append(["request goodput (req/s)", number(goodput)]) }
        var latency = TextTable(header: ["ms", "mean", "median", "p90", "p99"])
        for (name, d) in [("TTFT", result.ttftMs), ("TPOT", result.tpotMs), ("ITL", result.itlMs), ("E2E latency", result.e2elMs)] {
            latency.rows.append([name, number(d.mean), number(d.median), number(d.p90), number(d.p99)])
        }
        return table.render() + "\n\n" + latency.render()
    }
}

/// A one-line progress bar on stderr, redrawn as requests finish.
final class ProgressBar: Sendable {
    let enabled: Bool
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let width = 40, filled = done * width / total
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] \(done)/\(total)"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
