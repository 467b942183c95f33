import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Sends benchmark requests to an OpenAI-compatible server, streaming, and times every chunk.
public struct ServeClient: Sendable {
    public enum Endpoint: String, Sendable, CaseIterable {
        case completions, chat
        var path: String { self == .completions ? "/v1/completions" : "/v1/chat/completions" }
    }

    public var baseURL: String
    public var model: String
    public var endpoint: Endpoint
    public var ignoreEOS: Bool
    public var apiKey: String?
    let http: HTTPClient

    public init(http: HTTPClient, baseURL: String, model: String, endpoint: Endpoint = .completions, ignoreEOS: Bool = false, apiKey: String? = nil) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.endpoint = endpoint
        self.ignoreEOS = ignoreEOS
        self.apiKey = apiKey
    }

    /// Runs one request to its end; failures are recorded, never thrown.
    public func send(_ request: BenchRequest, timeout: Double = 3600) async -> RequestRecord {
        var record = RequestRecord()
        record.promptTokens = request.promptLength
        let clock = ContinuousClock()
        let start = clock.now
        var last = start
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        do {
            let response = try await http.execute(try httpRequest(request), timeout: .milliseconds(Int64(timeout * 1000)))
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                record.error = "HTTP \(response.status.code): \(String(buffer: body).prefix(300))"
                return record
            }
            var parser = SSEParser()
            var chunks = 0
            var usage: Usage?
            var finished = false
            for try await buffer in response.body {
                for event in parser.feed(buffer.readableBytesView) {
                    if event == "[DONE]" { finished = true; continue }
                    let chunk = try JSONDecoder().decode(Chunk.self, from: Data(event.utf8))
                    if let message = chunk.error?.message { throw ClientError(message: message) }
                    if let found = chunk.usage { usage = found }
                    guard chunk.choices?.contains(where: { !($0.text ?? $0.delta?.content ?? "").isEmpty }) == true else { continue }
                    let now = clock.now
                    if chunks == 0 { record.timeToFirstToken = seconds(now - start) } else { record.interTokenLatencies.append(seconds(now - last)) }
                    last = now
                    chunks += 1
                }
            }
            guard finished else { throw ClientError(message: "the stream ended without [DONE]") }
            record.latency = seconds(clock.now - start)
            record.outputTokens = usage?.completionTokens ?? chunks
            if let prompt = usage?.promptTokens { record.promptTokens = prompt }
            record.success = chunks > 0
            if chunks == 0 { record.error = "no tokens were streamed" }
        } catch {
            record.error = "\(error)"
        }
        return record
    }

    func httpRequest(_ request: BenchRequest) throws -> HTTPClientRequest {
        var body: [String: Any] = [
            "model": model, "max_tokens": request.outputLength, "temperature": 0, "stream": true,
            "stream_options": ["include_usage": true],
        ]
        if ignoreEOS { body["ignore_eos"] = true }
        switch (endpoint, request.prompt) {
        case let (.completions, .text(text)): body["prompt"] = text
        case let (.completions, .tokens(ids)): body["prompt"] = ids.map(Int.init)
        case let (.chat, .text(text)): body["messages"] = [["role": "user", "content": text]]
        case (.chat, .tokens): throw ClientError(message: "token-id prompts need the completions endpoint")
        }
        var http = HTTPClientRequest(url: baseURL + endpoint.path)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { http.headers.add(name: "Authorization", value: "Bearer " + apiKey) }
        http.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        return http
    }

    struct ClientError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The parts of a streamed chunk (completions or chat) the benchmark reads.
    struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { var content: String? }
            var text: String?
            var delta: Delta?
        }
        struct Failure: Decodable { var message: String? }
        var choices: [Choice]?
        var usage: Usage?
        var error: Failure?
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
        }
    }
}
