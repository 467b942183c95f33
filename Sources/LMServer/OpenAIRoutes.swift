#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import LMEngine
import NIOCore
import Prometheus

/// The HTTP face of `OpenAIService`: OpenAI's and vLLM's endpoints on a Hummingbird router.
public enum OpenAIRoutes {
    public static let version = "0.1.0"

    /// - Parameter metrics: the registry behind the process's swift-metrics factory, served at
    ///   `/metrics` with HTTP request metrics added; nil serves no metrics.
    public static func router(_ service: OpenAIService, metrics: PrometheusCollectorRegistry? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        if let metrics {
            router.add(middleware: MetricsMiddleware())
            router.get("metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        router.get("health") { _, _ in HTTPResponse.Status.ok }
        router.get("version") { _, _ in json(["version": version]) }
        router.get("v1/models") { request, _ in
            try authorize(request, service)
            return json(ModelList(data: [.init(id: service.settings.modelName, created: service.created,
                                               maxModelLen: service.settings.maxModelLen)]))
        }
        router.post("v1/completions") { request, _ in
            await respond {
                try authorize(request, service)
                let body = try await collect(request, service)
                let completion = try service.startCompletion(try RequestDecoding.decode(CompletionRequest.self, from: body))
                if completion.streaming { return eventStream { send in try await service.stream(completion, send: send) } }
                return json(try await service.collect(completion))
            }
        }
        router.post("v1/chat/completions") { request, _ in
            await respond {
                try authorize(request, service)
                let body = try await collect(request, service)
                let chat = try service.startChat(try RequestDecoding.decode(ChatCompletionRequest.self, from: body))
                if chat.streaming { return eventStream { send in try await service.stream(chat, send: send) } }
                return json(try await service.collect(chat))
            }
        }
        router.post("tokenize") { request, _ in
            await respond {
                try authorize(request, service)
                return json(try service.tokenize(try RequestDecoding.decode(OpenAIService.TokenizeRequest.self, from: try await collect(request, service))))
            }
        }
        router.post("detokenize") { request, _ in
            await respond {
                try authorize(request, service)
                return json(try service.detokenize(try RequestDecoding.decode(OpenAIService.DetokenizeRequest.self, from: try await collect(request, service))))
            }
        }
        return router
    }

    /// Runs a handler, answering any APIError (or other failure) as an OpenAI error object.
    static func respond(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as APIError {
            return failure(error)
        } catch let error as EngineError {
            return failure(APIError(error))
        } catch {
            return failure(APIError(status: 500, message: "\(error)", type: "server_error"))
        }
    }

    static func failure(_ error: APIError) -> Response {
        var response = json(error.body, status: .init(code: error.status))
        if let seconds = error.retryAfter { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    static func authorize(_ request: Request, _ service: OpenAIService) throws(APIError) {
        guard let key = service.settings.apiKey else { return }
        guard request.headers[.authorization] == "Bearer " + key else { throw .unauthorized }
    }

    static func collect(_ request: Request, _ service: OpenAIService) async throws -> [UInt8] {
        let limit = service.settings.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.bodyTooLarge(limit: limit) }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A `text/event-stream` response; each `send` is written and flushed at once.
    static func eventStream(_ produce: @escaping @Sendable ((String) async throws -> Void) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                 body: ResponseBody { writer in
                     try await produce { text in try await writer.write(ByteBuffer(string: text)) }
                     try await writer.finish(nil)
                 })
    }
}
