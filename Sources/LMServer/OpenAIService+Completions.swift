import LMEngine

/// `/v1/completions`: one engine request per prompt (each with its `n` completions).
extension OpenAIService {
    public struct Completion: Sendable {
        let id: String
        let request: CompletionRequest
        let prompts: [[Int32]]
        let streams: [AsyncThrowingStream<RequestOutput, Error>]
        let n: Int
        public var streaming: Bool { request.sampling.stream == true }
    }

    /// Validates the request and submits its prompts; nothing runs for an invalid request.
    public func startCompletion(_ request: CompletionRequest) throws(APIError) -> Completion {
        try checkModel(request.model)
        if let logprobs = request.logprobs, !(0...20).contains(logprobs) {
            throw .invalid("logprobs must be between 0 and 20", param: "logprobs")
        }
        let prompts: [[Int32]] = request.prompts.map { prompt in
            switch prompt {
            case let .text(text): tokenizer.encode(text)
            case let .tokens(ids): ids
            }
        }
        var all: [SamplingParameters] = []
        for prompt in prompts {
            guard !prompt.isEmpty else { throw .invalid("prompt must not be empty", param: "prompt") }
            var p = try parameters(request.sampling, promptCount: prompt.count, defaultMaxTokens: 16)
            p.logprobs = request.logprobs
            all.append(p)
        }
        var streams: [AsyncThrowingStream<RequestOutput, Error>] = []
        for (prompt, p) in zip(prompts, all) { streams.append(try generate(prompt, p)) }
        return Completion(id: Self.requestID("cmpl-"), request: request, prompts: prompts, streams: streams, n: all.first?.n ?? 1)
    }

    /// Waits for every completion and returns the whole response.
    public func collect(_ completion: Completion) async throws(APIError) -> CompletionResponse {
        var choices: [CompletionChoice] = []
        var promptTokens = 0, completionTokens = 0
        for (p, stream) in completion.streams.enumerated() {
            var texts = Array(repeating: completion.request.echo ? echo(completion.prompts[p]) : "", count: completion.n)
            var logprobs = Array(repeating: CompletionLogprobs(), count: completion.n)
            var finish = Array(repeating: String?.none, count: completion.n)
            try await readAll(stream) { output in
                if completion.request.logprobs != nil { append(output.logprobs, to: &logprobs[output.index], offset: texts[output.index].utf8.count) }
                texts[output.index] += output.text
                if let reason = output.finishReason {
                    finish[output.index] = reason.rawValue
                    completionTokens += output.completionTokens
                }
            }
            promptTokens += completion.prompts[p].count * completion.n
            for i in 0..<completion.n {
                choices.append(CompletionChoice(index: p * completion.n + i, text: texts[i],
                                                logprobs: completion.request.logprobs == nil ? nil : logprobs[i], finishReason: finish[i]))
            }
        }
        return CompletionResponse(id: completion.id, created: created, model: settings.modelName, choices: choices,
                                  usage: Usage(prompt: promptTokens, completion: completionTokens))
    }

    /// Streams chunks as server-sent events through `send` (one `data:` block each), a usage
    /// chunk when asked, then `[DONE]`. Returning early (the client left) drops the streams,
    /// which aborts their requests.
    public func stream(_ completion: Completion, send: (String) async throws -> Void) async throws {
        var promptTokens = 0, completionTokens = 0
        for (p, stream) in completion.streams.enumerated() {
            var offsets = Array(repeating: 0, count: completion.n)
            if completion.request.echo {
                let text = echo(completion.prompts[p])
                for i in 0..<completion.n {
                    offsets[i] = text.utf8.count
                    try await send(SSE.data(chunk(completion, index: p * completion.n + i, text: text, logprobs: nil, finish: nil)))
                }
            }
            do {
                for try await output in stream {
                    var logprobs: CompletionLogprobs?
                    if completion.request.logprobs != nil {
                        var entry = CompletionLogprobs()
                        append(output.logprobs, to: &entry, offset: offsets[output.index])
                        logprobs = entry
                    }
                    offsets[output.index] += output.text.utf8.count
                    if output.finishReason != nil { completionTokens += output.completionTokens }
                    guard !output.text.isEmpty || output.finishReason != nil || logprobs != nil else { continue }
                    let index = p * completion.n + output.index
                    if logprobs == nil {
                        try await send(SSE.textChunk(chat: false, id: completion.id, created: created, model: settings.modelName,
                                                     index: index, text: output.text, finish: output.finishReason?.rawValue))
                    } else {
                        try await send(SSE.data(chunk(completion, index: index, text: output.text, logprobs: logprobs,
                                                      finish: output.finishReason?.rawValue)))
                    }
                }
            } catch let error as EngineError {
                try await send(SSE.data(APIError(error).body))
                break
            }
            promptTokens += completion.prompts[p].count * completion.n
        }
        if completion.request.sampling.includeUsage == true {
            let usage = CompletionResponse(id: completion.id, created: created, model: settings.modelName, choices: [],
                                           usage: Usage(prompt: promptTokens, completion: completionTokens))
            try await send(SSE.data(usage))
        }
        try await send(SSE.done)
    }

    private func chunk(_ completion: Completion, index: Int, text: String, logprobs: CompletionLogprobs?, finish: String?) -> CompletionResponse {
        CompletionResponse(id: completion.id, created: created, model: settings.modelName,
                           choices: [CompletionChoice(index: index, text: text, logprobs: logprobs, finishReason: finish)], usage: nil)
    }

    private func echo(_ prompt: [Int32]) -> String { tokenizer.decode(prompt, skipSpecialTokens: false) }

    private func append(_ sampled: [SampledToken], to logprobs: inout CompletionLogprobs, offset: Int) {
        var offset = offset
        for token in sampled {
            let text = tokenText(token.token)
            logprobs.tokens.append(text)
            logprobs.tokenLogprobs.append(token.logprob)
            var top: [String: Float] = [:]
            for alternative in token.topLogprobs { top[tokenText(alternative.token)] = alternative.logprob }
            logprobs.topLogprobs.append(top)
            logprobs.textOffset.append(offset)
            offset += text.utf8.count
        }
    }
}
