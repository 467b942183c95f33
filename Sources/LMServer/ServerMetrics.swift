import CoreMetrics

/// The server's own counters, beside the engine's and Hummingbird's HTTP metrics.
struct ServerMetrics: Sendable {
    /// Requests whose client went away before the answer was complete (each aborted in the engine).
    let disconnects = Counter(label: "peregrine_client_disconnects_total")
    /// Requests cut off by `--request-timeout`.
    let timeouts = Counter(label: "peregrine_request_timeouts_total")
}
