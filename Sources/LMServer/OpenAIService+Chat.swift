import LMEngine
import LMTokenizers

/// `/v1/chat/completions`: messages through the chat template, then one engine request.
extension OpenAIService {
    public struct Chat: Sendable {
        let id: String
        let request: ChatCompletionRequest
        let promptCount: Int
        let stream: AsyncThrowingStream<RequestOutput, Error>
        let n: Int
        public var streaming: Bool { request.sampling.stream == true }
    }

    /// The prompt text the chat template makes of the request's messages.
    public func render(_ request: ChatCompletionRequest) throws(APIError) -> String {
        guard let template else { throw .invalid("This model has no chat template; start the server with --chat-template FILE.", param: "messages") }
        let messages: [JinjaValue] = request.messages.map { message in
            var object = JinjaObject()
            object["role"] = .string(message.role)
            object["content"] = message.content.map(JinjaValue.string) ?? .none
            if let name = message.name { object["name"] = .string(name) }
            if let id = message.toolCallID { object["tool_call_id"] = .string(id) }
            return .object(object)
        }
        var extra = JinjaObject()
        for (key, value) in request.chatTemplateKwargs.sorted(by: { $0.key < $1.key }) { extra[key] = value.jinja }
        guard !(request.addGenerationPrompt && request.continueFinalMessage) else {
            throw .invalid("add_generation_prompt and continue_final_message cannot both be true", param: "continue_final_message")
        }
        do {
            return try template.render(messages: messages, addGenerationPrompt: request.addGenerationPrompt,
                                       continueFinalMessage: request.continueFinalMessage,
                                       bosToken: tokenizer.configuration.bosToken, eosToken: tokenizer.configuration.eosToken, extra: extra)
        } catch {
            throw .invalid("The chat template failed on these messages: \(error)", param: "messages")
        }
    }

    public func startChat(_ request: ChatCompletionRequest) throws(APIError) -> Chat {
        try checkModel(request.model)
        if let format = request.responseFormat, format != .object(["type": .string("text")]) {
            throw .invalid("response_format other than {\"type\": \"text\"} is not supported yet", param: "response_format")
        }
        if let tools = request.tools, tools != .null, tools != .array([]) {
            throw .invalid("tools are not supported yet", param: "tools")
        }
        if let top = request.topLogprobs, !(0...20).contains(top) { throw .invalid("top_logprobs must be between 0 and 20", param: "top_logprobs") }
        let prompt = tokenizer.encode(try render(request), addSpecialTokens: false)   // the template wrote any BOS itself
        guard !prompt.isEmpty else { throw .invalid("The messages render to an empty prompt", param: "messages") }
        var p = try parameters(request.sampling, promptCount: prompt.count, defaultMaxTokens: nil)
        if request.logprobs { p.logprobs = request.topLogprobs ?? 0 }
        return Chat(id: Self.requestID("chatcmpl-"), request: request, promptCount: prompt.count, stream: try generate(prompt, p), n: p.n)
    }

    public func collect(_ chat: Chat) async throws(APIError) -> ChatCompletionResponse {
        var texts = Array(repeating: "", count: chat.n)
        var logprobs = Array(repeating: [ChatTokenLogprob](), count: chat.n)
        var finish = Array(repeating: String?.none, count: chat.n)
        var completionTokens = 0
        try await readAll(chat.stream) { output in
            texts[output.index] += output.text
            logprobs[output.index] += output.logprobs.map(chatLogprob)
            if let reason = output.finishReason {
                finish[output.index] = reason.rawValue
                completionTokens += output.completionTokens
            }
        }
        let choices = (0..<chat.n).map { i in
            ChatChoice(index: i, message: ChatMessageOut(role: "assistant", content: texts[i]), delta: nil,
                       logprobs: chat.request.logprobs ? ChatLogprobs(content: logprobs[i]) : nil, finishReason: finish[i])
        }
        return ChatCompletionResponse(id: chat.id, chunk: false, created: created, model: settings.modelName, choices: choices,
                                      usage: Usage(prompt: chat.promptCount * chat.n, completion: completionTokens))
    }

    /// Streams `chat.completion.chunk`s: first the role, then content deltas, the finish reason,
    /// a usage chunk when asked, and `[DONE]`.
    public func stream(_ chat: Chat, send: (String) async throws -> Void) async throws {
        func chunk(_ index: Int, _ delta: ChatMessageOut, _ logprobs: ChatLogprobs?, _ finish: String?) -> String {
            SSE.data(ChatCompletionResponse(id: chat.id, chunk: true, created: created, model: settings.modelName,
                                            choices: [ChatChoice(index: index, message: nil, delta: delta, logprobs: logprobs, finishReason: finish)],
                                            usage: nil))
        }
        for i in 0..<chat.n { try await send(chunk(i, ChatMessageOut(role: "assistant", content: ""), nil, nil)) }
        var completionTokens = 0
        do {
            for try await output in chat.stream {
                if output.finishReason != nil { completionTokens += output.completionTokens }
                let logprobs = chat.request.logprobs && !output.logprobs.isEmpty ? ChatLogprobs(content: output.logprobs.map(chatLogprob)) : nil
                guard !output.text.isEmpty || output.finishReason != nil || logprobs != nil else { continue }
                if logprobs == nil {
                    try await send(SSE.textChunk(chat: true, id: chat.id, created: created, model: settings.modelName,
                                                 index: output.index, text: output.text, finish: output.finishReason?.rawValue))
                } else {
                    try await send(chunk(output.index, ChatMessageOut(role: nil, content: output.text), logprobs, output.finishReason?.rawValue))
                }
            }
        } catch let error as EngineError {
            try await send(SSE.data(APIError(error).body))
        }
        if chat.request.sampling.includeUsage == true {
            try await send(SSE.data(ChatCompletionResponse(id: chat.id, chunk: true, created: created, model: settings.modelName, choices: [],
                                                           usage: Usage(prompt: chat.promptCount * chat.n, completion: completionTokens))))
        }
        try await send(SSE.done)
    }

    private func chatLogprob(_ sampled: SampledToken) -> ChatTokenLogprob {
        let text = tokenText(sampled.token)
        return ChatTokenLogprob(token: text, logprob: sampled.logprob ?? 0, bytes: Array(text.utf8),
                                topLogprobs: sampled.topLogprobs.map { alternative in
                                    let t = tokenText(alternative.token)
                                    return .init(token: t, logprob: alternative.logprob, bytes: Array(t.utf8))
                                })
    }
}

extension JSONValue {
    /// The same value for a template.
    var jinja: JinjaValue {
        switch self {
        case .null: .none
        case let .bool(value): .bool(value)
        case let .int(value): .int(value)
        case let .double(value): .double(value)
        case let .string(value): .string(value)
        case let .array(values): .array(values.map(\.jinja))
        case let .object(fields):
            .object(JinjaObject(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value.jinja) }))
        }
    }
}
