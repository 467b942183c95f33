import Synchronization

/// Where the routes find the model: empty while it loads (the server already listens, so
/// `/health` can answer 503 and load balancers wait), filled once it is ready.
public final class ServiceSlot: Sendable {
    private struct State {
        var service: OpenAIService?
        var url: String?
        var announced = false
    }
    private let state = Mutex(State())
    private let announce: @Sendable (OpenAIService, String) -> Void

    /// - Parameter announce: called once, when the model is loaded and the address is known.
    public init(announce: @escaping @Sendable (OpenAIService, String) -> Void = { _, _ in }) {
        self.announce = announce
    }

    /// A slot that is ready at once (tests, embedding).
    public convenience init(_ service: OpenAIService) {
        self.init()
        fill(service)
    }

    public var service: OpenAIService? { state.withLock { $0.service } }

    /// The service, or 503 while the model loads.
    func ready() throws(APIError) -> OpenAIService {
        guard let service else { throw .loading }
        return service
    }

    public func fill(_ service: OpenAIService) { update { $0.service = service } }

    func listening(at url: String) { update { $0.url = url } }

    private func update(_ change: (inout State) -> Void) {
        let ready: (OpenAIService, String)? = state.withLock { state in
            change(&state)
            guard !state.announced, let service = state.service, let url = state.url else { return nil }
            state.announced = true
            return (service, url)
        }
        if let ready { announce(ready.0, ready.1) }
    }
}
