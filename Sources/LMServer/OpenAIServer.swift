import Hummingbird
import Logging
import ServiceLifecycle

/// Runs the API until SIGTERM or SIGINT: then it stops accepting connections, lets running
/// requests finish for up to `shutdownTimeout` seconds, and shuts the engine down.
public enum OpenAIServer {
    public static func run(_ service: OpenAIService, host: String, port: Int, shutdownTimeout: Double,
                           onListening: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "peregrine")
        logger.logLevel = .warning
        let app = Application(router: OpenAIRoutes.router(service),
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
