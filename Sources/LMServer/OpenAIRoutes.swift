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

    /// A router over a service that is ready now.
    public static func router(_ service: OpenAIService, metrics: PrometheusCollectorRegistry? = nil) -> Router<BasicRequestContext> {
        router(ServiceSlot(service), metrics: metrics)
    }

    /// - Parameter metrics: the registry behind the process's swift-metrics factory, served at
    ///   `/metrics` with HTTP request metrics added; nil serves no metrics.
    public static func router(_ slot: ServiceSlot, metrics: PrometheusCollectorRegistry? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        let counters = ServerMetrics()
        if let metrics {
            router.add(middleware: MetricsMiddleware())
            router.get("metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        router.get("health") { _, _ in
            slot.service == nil ? failure(.loading) : Response(status: .ok)
        }
        router.get("version") { _, _ in json(["version": version]) }
        router.get("v1/models") { request, _ in
            await respond {
                let service = try admit(request, slot)
                return json(ModelList(data: [.init(id: service.settings.modelName, created: service.created,
                                                   maxModelLen: service.settings.maxModelLen)]))
            }
        }
        router.post("v1/completions") { request, _ in
            await generation(request, slot, counters) { service, body in
                let completion = try service.startCompletion(try RequestDecoding.decode(CompletionRequest.self, from: body))
                if completion.streaming {
                    return eventStream(service, counters) { send in try await service.stream(completion, send: send) }
                }
                return json(try await withDeadline(service.settings.requestTimeout) { try await service.collect(completion) })
            }
        }
        router.post("v1/chat/completions") { request, _ in
            await generation(request, slot, counters) { service, body in
                let chat = try service.startChat(try RequestDecoding.decode(ChatCompletionRequest.self, from: body))
                if chat.streaming {
                    return eventStream(service, counters) { send in try await service.stream(chat, send: send) }
                }
                return json(try await withDeadline(service.settings.requestTimeout) { try await service.collect(chat) })
            }
        }
        router.post("tokenize") { request, _ in
            await respond {
                let service = try admit(request, slot)
                let body = try await collect(request.body, service, declaredLength: request.headers[.contentLength])
                return json(try service.tokenize(try RequestDecoding.decode(OpenAIService.TokenizeRequest.self, from: body)))
            }
        }
        router.post("detokenize") { request, _ in
            await respond {
                let service = try admit(request, slot)
                let body = try await collect(request.body, service, declaredLength: request.headers[.contentLength])
                return json(try service.detokenize(try RequestDecoding.decode(OpenAIService.DetokenizeRequest.self, from: body)))
            }
        }
        return router
    }

    /// A generation endpoint: the handler runs cancelled if the client closes its connection, so
    /// a whole-response request is aborted in the engine as soon as its client leaves (streams
    /// notice at their next write). Hummingbird's inbound-close watcher consumes the connection,
    /// so the response says `Connection: close` and the client opens a fresh one next time: a
    /// TCP handshake (~0.1 ms locally) against generations of milliseconds to minutes.
    static func generation(_ request: Request, _ slot: ServiceSlot, _ counters: ServerMetrics,
                           _ handler: @escaping @Sendable (OpenAIService, [UInt8]) async throws -> Response) async -> Response {
        var response = await respond {
            let service = try admit(request, slot)
            do {
                return try await request.body.consumeWithCancellationOnInboundClose { body in
                    try await handler(service, try await collect(body, service, declaredLength: request.headers[.contentLength]))
                }
            } catch is CancellationError {
                counters.disconnects.increment()
                return Response(status: .init(code: 499))   // nobody reads it: the client is gone
            } catch let error as APIError where error.status == 408 {
                counters.timeouts.increment()
                throw error
            }
        }
        response.headers[.connection] = "close"   // errors too: the watcher has consumed the connection
        return response
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

    /// The service, once the model is loaded (else 503) and the API key checks out (else 401).
    static func admit(_ request: Request, _ slot: ServiceSlot) throws(APIError) -> OpenAIService {
        let service = try slot.ready()
        if let key = service.settings.apiKey, request.headers[.authorization] != "Bearer " + key { throw .unauthorized }
        return service
    }

    static func collect(_ body: RequestBody, _ service: OpenAIService, declaredLength: String?) async throws -> [UInt8] {
        let limit = service.settings.maxBodyBytes
        if let length = declaredLength.flatMap(Int.init), length > limit { throw APIError.bodyTooLarge(limit: limit) }
        do {
            return Array(try await body.collect(upTo: limit).readableBytesView)
        } catch is CancellationError {
            throw CancellationError()
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

    /// A `text/event-stream` response; each `send` is written and flushed at once. The producer
    /// runs as a child task feeding the writer: a failed write means the client left, and
    /// cancelling the producer drops its engine streams (aborting their requests). Past
    /// `--request-timeout` the stream ends with an error event and `[DONE]`.
    static func eventStream(_ service: OpenAIService, _ counters: ServerMetrics,
                            _ produce: @escaping @Sendable (@Sendable (String) async throws -> Void) async throws -> Void) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                 body: ResponseBody { writer in
                     let (events, sink) = AsyncThrowingStream<String, Error>.makeStream()
                     try await withThrowingTaskGroup(of: Void.self) { group in
                         group.addTask {
                             do {
                                 try await withDeadline(service.settings.requestTimeout) {
                                     // Once cancelled (time-out), nothing more may reach the client but the error.
                                     try await produce { event in
                                         try Task.checkCancellation()
                                         sink.yield(event)
                                     }
                                 }
                                 sink.finish()
                             } catch {
                                 sink.finish(throwing: error)
                             }
                         }
                         do {
                             for try await text in events {
                                 do {
                                     try await writer.write(ByteBuffer(string: text))
                                 } catch {
                                     counters.disconnects.increment()
                                     throw error
                                 }
                             }
                         } catch let error as APIError {
                             counters.timeouts.increment()
                             try await writer.write(ByteBuffer(string: SSE.data(error.body) + SSE.done))
                         }
                         group.cancelAll()
                     }
                     try await writer.finish(nil)
                 })
    }
}
