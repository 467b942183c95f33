import CoreMetrics

/// The engine's metrics through swift-metrics (exported by whatever backend the process
/// bootstraps, e.g. Prometheus). Names follow vLLM's where they exist.
struct EngineMetrics: Sendable {
    let queueTime = Timer(label: "peregrine_request_queue_time_seconds")
    let timeToFirstToken = Timer(label: "peregrine_time_to_first_token_seconds")
    let timePerOutputToken = Timer(label: "peregrine_time_per_output_token_seconds")
    let endToEnd = Timer(label: "peregrine_e2e_request_latency_seconds")
    let running = Gauge(label: "peregrine_num_requests_running")
    let waiting = Gauge(label: "peregrine_num_requests_waiting")
    let kvBlocksUsed = Gauge(label: "peregrine_kv_cache_blocks_used")
    let kvUsage = Gauge(label: "peregrine_kv_cache_usage_ratio")
    let prefixHitRate = Gauge(label: "peregrine_prefix_cache_hit_rate")
    let prefixQueries = Counter(label: "peregrine_prefix_cache_queries_total")
    let prefixHits = Counter(label: "peregrine_prefix_cache_hits_total")
    let preemptions = Counter(label: "peregrine_num_preemptions_total")
    let promptTokens = Counter(label: "peregrine_prompt_tokens_total")
    let generationTokens = Counter(label: "peregrine_generation_tokens_total")
    let computedTokens = Counter(label: "peregrine_computed_tokens_total")
    let aborted = Counter(label: "peregrine_request_aborted_total")

    func finished(_ reason: FinishReason) {
        Counter(label: "peregrine_request_success_total", dimensions: [("finished_reason", reason.rawValue)]).increment()
    }
}
