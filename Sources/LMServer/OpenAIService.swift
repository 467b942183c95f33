#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LMEngine
import LMTokenizers

/// How the server presents its model and guards its door.
public struct ServerSettings: Sendable {
    public var modelName: String
    public var apiKey: String?
    public var maxBodyBytes = 16 << 20
    /// Longest prompt plus output a request may ask for.
    public var maxModelLen: Int
    /// Seconds a generation request may take (nil: no limit); longer ones get 408 or, when
    /// streaming, an error event.
    public var requestTimeout: Double?

    public init(modelName: String, maxModelLen: Int, apiKey: String? = nil, requestTimeout: Double? = nil) {
        self.modelName = modelName
        self.maxModelLen = maxModelLen
        self.apiKey = apiKey
        self.requestTimeout = requestTimeout
    }
}

/// The OpenAI API over an engine, independent of HTTP: turns requests into engine streams and
/// engine outputs into response objects.
public final class OpenAIService: Sendable {
    public let engine: Engine
    public let tokenizer: Tokenizer
    public let template: ChatTemplate?
    public let settings: ServerSettings
    let created = Int(time(nil))

    public init(engine: Engine, tokenizer: Tokenizer, template: ChatTemplate?, settings: ServerSettings) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.template = template
        self.settings = settings
    }

    /// Every request names our model, or none.
    func checkModel(_ name: String?) throws(APIError) {
        if let name, name != settings.modelName { throw .modelNotFound(name) }
    }

    static func requestID(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + String(generator.next(), radix: 16) + String(generator.next() & 0xffff_ffff, radix: 16)
    }

    /// Engine parameters for a prompt, refusing a prompt plus max_tokens beyond the context.
    func parameters(_ fields: SamplingFields, promptCount: Int, defaultMaxTokens: Int?) throws(APIError) -> SamplingParameters {
        let room = settings.maxModelLen - promptCount
        guard room > 0 else {
            throw .invalid("This model's maximum context length is \(settings.maxModelLen) tokens; the prompt has \(promptCount) tokens.", param: "prompt")
        }
        let p = try fields.parameters(defaultMaxTokens: min(defaultMaxTokens ?? room, room))
        guard promptCount + p.maxTokens <= settings.maxModelLen else {
            throw .invalid("This model's maximum context length is \(settings.maxModelLen) tokens; the request asks for \(promptCount + p.maxTokens) "
                           + "(\(promptCount) in the prompt, \(p.maxTokens) for max_tokens).", param: "max_tokens")
        }
        return p
    }

    func generate(_ prompt: [Int32], _ parameters: SamplingParameters) throws(APIError) -> AsyncThrowingStream<RequestOutput, Error> {
        do {
            return try engine.generate(GenerationRequest(prompt: prompt, parameters: parameters))
        } catch {
            throw APIError(error)
        }
    }

    /// Reads an engine stream to its end, turning its failures into API errors.
    func readAll(_ stream: AsyncThrowingStream<RequestOutput, Error>, _ body: (RequestOutput) -> Void) async throws(APIError) {
        do {
            for try await output in stream { body(output) }
            // A cancelled read ends early without an error: say so, or a partial answer would pass for whole.
            try Task.checkCancellation()
        } catch is CancellationError {
            throw APIError(status: 499, message: "The request was cancelled.", type: "cancelled")
        } catch let error as EngineError {
            throw APIError(error)
        } catch {
            throw APIError(status: 500, message: "\(error)", type: "server_error")
        }
    }

    /// A token's text on its own, for logprob entries.
    func tokenText(_ id: Int32) -> String { tokenizer.decode([id], skipSpecialTokens: false) }
}
