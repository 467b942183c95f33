import Foundation
import LMEngine
import LMServer
import Testing

/// Request bodies as OpenAI clients send them, and the 400s bad ones get.
@Suite struct RequestDecodingTests {
    func completion(_ json: String) throws(APIError) -> CompletionRequest {
        try RequestDecoding.decode(CompletionRequest.self, from: Array(json.utf8))
    }

    func chat(_ json: String) throws(APIError) -> ChatCompletionRequest {
        try RequestDecoding.decode(ChatCompletionRequest.self, from: Array(json.utf8))
    }

    /// The APIError `body` throws (nil when it succeeds or throws something else).
    func error(_ body: () throws -> Void) -> APIError? {
        do { try body() } catch let error as APIError { return error } catch { return nil }
        return nil
    }

    @Test func everyPromptShape() throws {
        #expect(try completion(#"{"model": "m", "prompt": "hi"}"#).prompts == [.text("hi")])
        #expect(try completion(#"{"prompt": ["a", "b"]}"#).prompts == [.text("a"), .text("b")])
        #expect(try completion(#"{"prompt": [1, 2, 3]}"#).prompts == [.tokens([1, 2, 3])])
        #expect(try completion(#"{"prompt": [[1, 2], [3]]}"#).prompts == [.tokens([1, 2]), .tokens([3])])
        for bad in [#"{"prompt": []}"#, #"{"prompt": 5}"#, #"{"prompt": [1, "a"]}"#, #"{"prompt": [[]]}"#, #"{"prompt": [-1]}"#,
                    #"{"prompt": [1.5]}"#, #"{"prompt": [99999999999]}"#, #"{"prompt": {"a": 1}}"#] {
            let e = error { _ = try completion(bad) }
            #expect(e?.status == 400 && e?.param == "prompt", "\(bad): \(String(describing: e))")
        }
        #expect(error { _ = try completion(#"{"model": "m"}"#) } == .invalid("prompt is required", param: "prompt"))
    }

    @Test func samplingFieldsBecomeEngineParameters() throws {
        let request = try completion(#"""
        {"prompt": "x", "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": -1, "min_p": 0.1, "n": 2, "seed": 42,
         "stop": "END", "presence_penalty": 0.5, "frequency_penalty": -0.5, "repetition_penalty": 1.1,
         "logit_bias": {"12": -100}, "min_tokens": 2, "ignore_eos": true, "stream": true, "stream_options": {"include_usage": true},
         "echo": true, "logprobs": 3, "user": "u"}
        """#)
        let p = try request.sampling.parameters(defaultMaxTokens: 16)
        #expect(p.maxTokens == 7 && p.temperature == 0.5 && p.topP == 0.9 && p.topK == 0 && p.minP == 0.1 && p.n == 2 && p.seed == 42)
        #expect(p.stopStrings == ["END"] && p.presencePenalty == 0.5 && p.frequencyPenalty == -0.5 && p.repetitionPenalty == 1.1)
        #expect(p.logitBias == [12: -100] && p.minTokens == 2 && p.ignoreEOS)
        #expect(request.sampling.stream == true && request.sampling.includeUsage == true && request.echo && request.logprobs == 3)
        #expect(try completion(#"{"prompt": "x"}"#).sampling.parameters(defaultMaxTokens: 16).maxTokens == 16)
        #expect(try completion(#"{"prompt": "x", "stop": ["a", "b"]}"#).sampling.stop == ["a", "b"])
    }

    @Test func wrongTypesNameTheField() {
        let cases: [(String, String)] = [
            (#"{"prompt": "x", "max_tokens": "ten"}"#, "max_tokens"),
            (#"{"prompt": "x", "temperature": "hot"}"#, "temperature"),
            (#"{"prompt": "x", "stream": 1}"#, "stream"),
            (#"{"prompt": "x", "stop": 3}"#, "stop"),
            (#"{"prompt": "x", "stream_options": {"include_usage": "yes"}}"#, "stream_options.include_usage"),
            (#"{"prompt": "x", "logit_bias": {"12": "a"}}"#, "logit_bias.12"),
            (#"{"prompt": "x", "max_tokens": 1e300}"#, "max_tokens"),
        ]
        for (body, field) in cases {
            let e = error { _ = try completion(body) }
            #expect(e?.status == 400 && e?.param == field, "\(body): \(String(describing: e))")
        }
        let e = error { _ = try completion(#"{"prompt": "x", "logit_bias": {"abc": 1}}"#).sampling.parameters(defaultMaxTokens: 1) }
        #expect(e?.param == "logit_bias")
        let invalid = error { _ = try completion("{\"prompt\": ") }
        #expect(invalid?.status == 400 && invalid?.message.hasPrefix("The body is not valid JSON") == true)
        #expect(error { _ = try completion("[1, 2]") }?.status == 400)
    }

    @Test func chatMessages() throws {
        let request = try chat(#"""
        {"model": "m", "messages": [{"role": "system", "content": "be brief"},
          {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
          {"role": "assistant", "content": null}, {"role": "tool", "content": "42", "tool_call_id": "call_1"}],
         "max_completion_tokens": 9, "max_tokens": 3, "logprobs": true, "top_logprobs": 2,
         "add_generation_prompt": false, "continue_final_message": true, "chat_template_kwargs": {"enable_thinking": false}}
        """#)
        #expect(request.messages.map(\.role) == ["system", "user", "assistant", "tool"])
        #expect(request.messages[1].content == "a\nb" && request.messages[2].content == nil && request.messages[3].toolCallID == "call_1")
        #expect(request.sampling.maxTokens == 9 && request.logprobs && request.topLogprobs == 2)
        #expect(!request.addGenerationPrompt && request.continueFinalMessage && request.chatTemplateKwargs["enable_thinking"] == .bool(false))
        for (body, field) in [(#"{"messages": []}"#, "messages"), (#"{"messages": [{"role": "robot", "content": "x"}]}"#, "messages[0].role"),
                              (#"{"messages": [{"content": "x"}]}"#, "messages[0].role"),
                              (#"{"messages": [{"role": "user", "content": 5}]}"#, "messages[0].content"),
                              (#"{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#, "messages[0].content"),
                              (#"{"messages": "hi"}"#, "messages")] {
            let e = error { _ = try chat(body) }
            #expect(e?.status == 400 && e?.param == field, "\(body): \(String(describing: e))")
        }
    }

    @Test func engineRefusalsMapToStatuses() {
        #expect(APIError(EngineError.queueFull(limit: 4)).status == 429)
        #expect(APIError(EngineError.queueFull(limit: 4)).retryAfter == 1)
        #expect(APIError(EngineError.tooLong(tokens: 300, limit: 256)).message.contains("300"))
        #expect(APIError(EngineError.tooLong(tokens: 300, limit: 256)).message.contains("256"))
        #expect(APIError(EngineError.shuttingDown).status == 503)
        #expect(APIError.modelNotFound("x").status == 404)
        #expect(APIError.invalid("bad", param: "n").body.error.code == "400")
    }
}

/// The hand-written stream chunk is valid JSON equal to what the encoder writes, for any text.
@Suite struct StreamChunkTests {
    @Test func textChunkIsTheEncodersJSON() throws {
        for text in ["", "plain", "quote \" backslash \\ newline \n tab \t cr \r", "\u{01}\u{1f}\u{7f}", "ünïcödé 日本 🦅", "</script>"] {
            for chat in [false, true] {
                let line = SSE.textChunk(chat: chat, id: "cmpl-1", created: 7, model: "m\"x", index: 3, text: text, finish: chat ? "stop" : nil)
                #expect(line.hasPrefix("data: ") && line.hasSuffix("\n\n"))
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                #expect(object["id"] as? String == "cmpl-1" && object["created"] as? Int == 7 && object["model"] as? String == "m\"x")
                #expect(object["object"] as? String == (chat ? "chat.completion.chunk" : "text_completion") && object["usage"] is NSNull)
                let choice = try #require((object["choices"] as? [[String: Any]])?.first)
                #expect(choice["index"] as? Int == 3 && choice["logprobs"] is NSNull)
                let decoded = chat ? (choice["delta"] as? [String: Any])?["content"] as? String : choice["text"] as? String
                #expect(decoded == text)
                #expect(chat ? choice["finish_reason"] as? String == "stop" : choice["finish_reason"] is NSNull)
            }
        }
    }
}
