import LMEngine

/// An error as the OpenAI API returns it: `{"error": {"message", "type", "param", "code"}}`
/// with the HTTP status it travels under.
public struct APIError: Error, Equatable, Sendable {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    /// Seconds a client should wait before retrying (429), sent as `Retry-After`.
    public var retryAfter: Int?

    public init(status: Int, message: String, type: String, param: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.retryAfter = retryAfter
    }

    public static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param)
    }

    public static func modelNotFound(_ name: String) -> APIError {
        APIError(status: 404, message: "The model `\(name)` does not exist.", type: "invalid_request_error", param: "model")
    }

    public static let unauthorized = APIError(status: 401, message: "Incorrect or missing API key.", type: "invalid_request_error")

    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: 413, message: "The request body is larger than \(limit) bytes.", type: "invalid_request_error")
    }

    public static let loading = APIError(status: 503, message: "The model is still loading; retry shortly.",
                                         type: "service_unavailable", retryAfter: 1)

    public static func timeout(seconds: Double) -> APIError {
        APIError(status: 408, message: "The request took longer than the server's limit of \(seconds) seconds.", type: "timeout_error")
    }

    /// The engine's refusals, as statuses a client can act on.
    public init(_ error: EngineError) {
        switch error {
        case let .invalid(reason):
            self = .invalid(reason)
        case let .queueFull(limit):
            self = APIError(status: 429, message: "The server is busy (\(limit) requests waiting); retry later.",
                            type: "rate_limit_error", retryAfter: 1)
        case let .tooLong(tokens, limit):
            self = .invalid("This request needs \(tokens) tokens (prompt plus max_tokens), more than the \(limit) the server can hold.",
                            param: "max_tokens")
        case .shuttingDown:
            self = APIError(status: 503, message: "The server is shutting down.", type: "service_unavailable")
        case let .failed(reason):
            self = APIError(status: 500, message: "The request failed: \(reason)", type: "server_error")
        }
    }

    /// The body: `{"error": {...}}`; `code` is the status as a string, as vLLM sends it.
    public var body: ErrorBody {
        ErrorBody(error: .init(message: message, type: type, param: param, code: String(status)))
    }

    public struct ErrorBody: Codable, Equatable, Sendable {
        public struct Detail: Codable, Equatable, Sendable {
            public var message: String
            public var type: String
            public var param: String?
            public var code: String?
        }
        public var error: Detail
    }
}
