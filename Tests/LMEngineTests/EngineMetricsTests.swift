import Foundation
import LMEngine
import LMTokenizers
import Metrics
import MetricsTestKit
import Testing

/// The engine reports its work through swift-metrics.
@Suite(.serialized) struct EngineMetricsTests {
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    @Test func requestsShowUpInTheMetrics() async throws {
        let metrics = Self.metrics
        // Its own model name keeps other suites' engines out of these series.
        let engine = try EngineFixtures.engine("tiny-llama", modelName: "metrics-test")
        defer { engine.shutdown() }
        var p = SamplingParameters()
        p.temperature = 0
        p.maxTokens = 6
        p.ignoreEOS = true
        for prompt: [Int32] in [[0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 4, 5, 6, 7, 9]] {
            for try await _ in try engine.generate(GenerationRequest(prompt: prompt, parameters: p)) {}
        }
        let d = [("model_name", "metrics-test")]
        #expect(try metrics.expectCounter("peregrine_generation_tokens_total", d).totalValue == 12)
        #expect(try metrics.expectCounter("peregrine_prompt_tokens_total", d).totalValue == 18)
        #expect(try metrics.expectCounter("peregrine_request_success_total", d + [("finished_reason", "length")]).totalValue == 2)
        #expect(try metrics.expectTimer("peregrine_time_to_first_token_seconds", d).values.count == 2)
        #expect(try metrics.expectTimer("peregrine_time_per_output_token_seconds", d).values.count == 2)
        #expect(try metrics.expectTimer("peregrine_e2e_request_latency_seconds", d).values.count == 2)
        #expect(try metrics.expectTimer("peregrine_request_queue_time_seconds", d).values.count == 2)
        // The second prompt shares two full blocks (8 tokens) with the first.
        #expect(try metrics.expectCounter("peregrine_prefix_cache_hits_total", d).totalValue == 2)
        #expect(try metrics.expectGauge("peregrine_kv_cache_blocks_used", d).lastValue == 0)
        #expect(try metrics.expectGauge("peregrine_num_requests_running", d).lastValue == 0)
    }
}
