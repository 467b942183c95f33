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

    public static func run(_ service: OpenAIService, metrics: PrometheusCollectorRegistry? = nil, host: String, port: Int,
                           shutdownTimeout: Double, onListening: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "peregrine")
        logger.logLevel = .warning
        let app = Application(router: OpenAIRoutes.router(service, metrics: metrics),
                              configuration: .init(address: .hostname(host, port: port), serverName: "peregrine"),
                              onServerRunning: { channel in
                                  let address = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
                                  onListening("http://" + address)
                              },
                              logger: logger)
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownTimeout * 1000))
        defer { service.engine.shutdown() }
        try await ServiceGroup(configuration: configuration).run()
    }
}
