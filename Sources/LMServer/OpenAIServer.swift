import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Runs the API until SIGTERM or SIGINT: then it stops accepting connections, lets running
/// requests finish for up to `shutdownTimeout` seconds, and shuts the engine down.
public enum OpenAIServer {
    /// Makes swift-metrics report into a Prometheus registry (once per process, before any engine
    /// starts), with names and labels made valid for Prometheus (`http.server.x` → `http_server_x`).
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (prometheusName(name), labels.map { (prometheusName($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }

    static func prometheusName(_ name: String) -> String {
        String(name.unicodeScalars.map { scalar in
            (("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar == ":")
                ? Character(scalar) : "_"
        })
    }

    /// Listens at once (so `/health` answers 503 while the model loads), runs `load` on a
    /// thread of its own, and serves until SIGTERM/SIGINT. A failed load stops the server with
    /// the load's error.
    public static func run(_ slot: ServiceSlot, metrics: PrometheusCollectorRegistry? = nil, host: String, port: Int,
                           shutdownTimeout: Double, load: @escaping @Sendable () throws -> OpenAIService,
                           onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        var logger = Logger(label: "peregrine")
        logger.logLevel = .warning
        let app = Application(router: OpenAIRoutes.router(slot, metrics: metrics),
                              configuration: .init(address: .hostname(host, port: port), serverName: "peregrine"),
                              onServerRunning: { channel in
                                  let address = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
                                  let url = "http://" + address
                                  onListening(url)
                                  slot.listening(at: url)
                              },
                              logger: logger)
        // Services stop in reverse order: the HTTP server drains first, then the engine stops.
        let model = ModelService(slot: slot, load: load)
        var configuration = ServiceGroupConfiguration(services: [model, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownTimeout * 1000))
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Loads the model off the concurrency pool, fills the slot, and stops the engine at shutdown.
struct ModelService: Service {
    let slot: ServiceSlot
    let load: @Sendable () throws -> OpenAIService

    func run() async throws {
        let load = self.load
        let service = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try load() }) }
        }
        slot.fill(service)
        defer { service.engine.shutdown() }
        try? await gracefulShutdown()
    }
}
