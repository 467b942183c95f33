import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import LMBench
import LMCPU
import LMEngine
import LMModels
import LMServer
import LMTokenizers
import Testing

/// The load generator against our own server on a real socket (tiny-llama fixture).
@Suite struct ServeBenchmarkTests {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["PEREGRINE_FIXTURES"] { return path }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    static func service() throws -> OpenAIService {
        let path = root + "/models/tiny-llama"
        let loaded = try ModelLoader.load(path: path, backend: try CPUBackend(threads: 2))
        let tokenizer = try TokenizerLoader.load(path: path)
        let engine = try Engine(model: loaded.model, tokenizer: tokenizer)
        return OpenAIService(engine: engine, tokenizer: tokenizer, template: try tokenizer.configuration.chatTemplate.map { try ChatTemplate($0) },
                             settings: ServerSettings(modelName: "tiny", maxModelLen: 256))
    }

    @Test(arguments: [ServeClient.Endpoint.completions, .chat])
    func measuresEveryRequest(endpoint: ServeClient.Endpoint) async throws {
        let service = try Self.service()
        defer { service.engine.shutdown() }
        let app = Application(router: OpenAIRoutes.router(service), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let http = HTTPClient.shared
            let format: BenchDataset.PromptFormat = endpoint == .chat ? .text : .ids
            let requests = BenchDataset.random(inputLength: 12, outputLength: 8, rangeRatio: 0)
                .requests(count: 12, format: format, vocabularySize: 512, seed: 5)
            let setup = ServeBenchmark.Setup(
                client: ServeClient(http: http, baseURL: "http://127.0.0.1:\(client.port!)", model: "tiny", endpoint: endpoint, ignoreEOS: true),
                requests: requests, datasetName: "random", label: "tiny", requestRate: 200, maxConcurrency: 4, seed: 5)
            let (records, duration) = await ServeBenchmark(setup).run()
            for record in records {
                #expect(record.success, "\(record.error ?? "")")
                #expect(record.outputTokens == 8 && record.timeToFirstToken > 0 && record.latency >= record.timeToFirstToken)
                #expect(record.interTokenLatencies.count <= 7 && record.interTokenLatencies.allSatisfy { $0 >= 0 })
            }
            if endpoint == .completions { #expect(records.allSatisfy { $0.promptTokens == 12 }) }
            let result = BenchResult(records: records, duration: duration, slo: ServiceLevelObjectives(e2el: 60_000), setup: setup, date: "now")
            #expect(result.completed == 12 && result.failed == 0 && result.totalOutputTokens == 96)
            #expect(result.requestGoodput == result.requestThroughput && result.outputThroughput > 0)
            let decoded = try JSONDecoder().decode(BenchResult.self, from: JSONEncoder().encode(result))
            #expect(decoded.ttftMs == result.ttftMs && decoded.outputLens == result.outputLens)
        }
    }

    /// A refused request is recorded as a failure with the server's message, not thrown.
    @Test func failuresAreRecorded() async throws {
        let service = try Self.service()
        defer { service.engine.shutdown() }
        let app = Application(router: OpenAIRoutes.router(service), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let http = HTTPClient.shared
            let client = ServeClient(http: http, baseURL: "http://127.0.0.1:\(client.port!)", model: "other")
            let record = await client.send(BenchRequest(prompt: .text("hi"), promptLength: 1, outputLength: 2))
            #expect(!record.success && record.error?.contains("404") == true, "\(record.error ?? "")")
        }
    }
}
