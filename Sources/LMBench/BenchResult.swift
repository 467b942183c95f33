/// A benchmark run's summary, written as the JSON result file (field names as vLLM's
/// `bench serve` writes them, so the same plotting and comparison scripts read both).
public struct BenchResult: Codable, Sendable {
    public var date: String
    /// Names the run's series in plots (default: model and endpoint).
    public var label: String
    public var baseURL: String
    public var model: String
    public var endpoint: String
    public var dataset: String
    public var numPrompts: Int
    /// Requests per second asked for; nil for `inf` (all at once).
    public var requestRate: Double?
    public var maxConcurrency: Int?
    public var duration: Double
    public var completed: Int
    public var failed: Int
    public var totalInputTokens: Int
    public var totalOutputTokens: Int
    public var requestThroughput: Double
    public var outputThroughput: Double
    public var totalTokenThroughput: Double
    public var requestGoodput: Double?
    public var slo: ServiceLevelObjectives?
    /// Milliseconds.
    public var ttftMs: Distribution
    public var tpotMs: Distribution
    public var itlMs: Distribution
    public var e2elMs: Distribution
    public var inputLens: [Int]
    public var outputLens: [Int]
    public var ttfts: [Double]
    public var errors: [String]

    enum CodingKeys: String, CodingKey {
        case date, label, model, endpoint, dataset, duration, completed, failed, slo, errors, ttfts
        case baseURL = "base_url", numPrompts = "num_prompts", requestRate = "request_rate", maxConcurrency = "max_concurrency"
        case totalInputTokens = "total_input_tokens", totalOutputTokens = "total_output_tokens"
        case requestThroughput = "request_throughput", outputThroughput = "output_throughput"
        case totalTokenThroughput = "total_token_throughput", requestGoodput = "request_goodput"
        case ttftMs = "ttft_ms", tpotMs = "tpot_ms", itlMs = "itl_ms", e2elMs = "e2el_ms"
        case inputLens = "input_lens", outputLens = "output_lens"
    }

    /// Aggregates the records of a run that took `duration` seconds.
    public init(records: [RequestRecord], duration: Double, slo: ServiceLevelObjectives?, setup: ServeBenchmark.Setup, date: String) {
        let done = records.filter(\.success)
        self.date = date
        label = setup.label
        baseURL = setup.client.baseURL
        model = setup.client.model
        endpoint = setup.client.endpoint.rawValue
        dataset = setup.datasetName
        numPrompts = records.count
        requestRate = setup.requestRate.isFinite ? setup.requestRate : nil
        maxConcurrency = setup.maxConcurrency
        self.duration = duration
        completed = done.count
        failed = records.count - done.count
        totalInputTokens = done.reduce(0) { $0 + $1.promptTokens }
        totalOutputTokens = done.reduce(0) { $0 + $1.outputTokens }
        let perSecond = duration > 0 ? 1 / duration : 0
        requestThroughput = Double(completed) * perSecond
        outputThroughput = Double(totalOutputTokens) * perSecond
        totalTokenThroughput = Double(totalInputTokens + totalOutputTokens) * perSecond
        self.slo = slo
        requestGoodput = slo.map { slo in Double(done.filter { slo.met(by: $0) }.count) * perSecond }
        ttftMs = Distribution(done.map { $0.timeToFirstToken * 1000 })
        tpotMs = Distribution(done.compactMap { $0.timePerOutputToken.map { $0 * 1000 } })
        itlMs = Distribution(done.flatMap { $0.interTokenLatencies.map { $0 * 1000 } })
        e2elMs = Distribution(done.map { $0.latency * 1000 })
        inputLens = records.map(\.promptTokens)
        outputLens = records.map(\.outputTokens)
        ttfts = records.map(\.timeToFirstToken)
        errors = records.map { $0.error ?? "" }
    }
}
