import CoreMetrics

/// The engine's metrics through swift-metrics (exported by whatever backend the process
/// bootstraps, e.g. Prometheus). Names follow vLLM's where they exist; every metric carries the
/// served model's name, as vLLM's `model_name` label.
struct EngineMetrics: Sendable {
    let dimensions: [(String, String)]
    let queueTime, timeToFirstToken, timePerOutputToken, endToEnd: Timer
    let running, waiting, kvBlocksUsed, kvUsage, prefixHitRate: Gauge
    let prefixQueries, prefixHits, preemptions, promptTokens, generationTokens, computedTokens, aborted: Counter

    init(modelName: String) {
        let d = [("model_name", modelName)]
        dimensions = d
        queueTime = Timer(label: "peregrine_request_queue_time_seconds", dimensions: d)
        timeToFirstToken = Timer(label: "peregrine_time_to_first_token_seconds", dimensions: d)
        timePerOutputToken = Timer(label: "peregrine_time_per_output_token_seconds", dimensions: d)
        endToEnd = Timer(label: "peregrine_e2e_request_latency_seconds", dimensions: d)
        running = Gauge(label: "peregrine_num_requests_running", dimensions: d)
        waiting = Gauge(label: "peregrine_num_requests_waiting", dimensions: d)
        kvBlocksUsed = Gauge(label: "peregrine_kv_cache_blocks_used", dimensions: d)
        kvUsage = Gauge(label: "peregrine_kv_cache_usage_ratio", dimensions: d)
        prefixHitRate = Gauge(label: "peregrine_prefix_cache_hit_rate", dimensions: d)
        prefixQueries = Counter(label: "peregrine_prefix_cache_queries_total", dimensions: d)
        prefixHits = Counter(label: "peregrine_prefix_cache_hits_total", dimensions: d)
        preemptions = Counter(label: "peregrine_num_preemptions_total", dimensions: d)
        promptTokens = Counter(label: "peregrine_prompt_tokens_total", dimensions: d)
        generationTokens = Counter(label: "peregrine_generation_tokens_total", dimensions: d)
        computedTokens = Counter(label: "peregrine_computed_tokens_total", dimensions: d)
        aborted = Counter(label: "peregrine_request_aborted_total", dimensions: d)
    }

    func finished(_ reason: FinishReason) {
        Counter(label: "peregrine_request_success_total", dimensions: dimensions + [("finished_reason", reason.rawValue)]).increment()
    }
}
