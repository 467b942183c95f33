/// Response bodies in OpenAI's wire format. Fields OpenAI sends as `null` are encoded as null,
/// not left out, so strict clients see the shapes they expect.
public struct Usage: Codable, Equatable, Sendable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens" }

    public init(prompt: Int, completion: Int) {
        promptTokens = prompt
        completionTokens = completion
        totalTokens = prompt + completion
    }
}

/// `logprobs` of a legacy completion choice.
public struct CompletionLogprobs: Codable, Equatable, Sendable {
    public var tokens: [String] = []
    public var tokenLogprobs: [Float?] = []
    public var topLogprobs: [[String: Float]?] = []
    public var textOffset: [Int] = []

    enum CodingKeys: String, CodingKey { case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset" }

    public init() {}
}

public struct CompletionChoice: Codable, Equatable, Sendable {
    public var index: Int
    public var text: String
    public var logprobs: CompletionLogprobs?
    public var finishReason: String?

    enum CodingKeys: String, CodingKey { case index, text, logprobs, finishReason = "finish_reason" }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(text, forKey: .text)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

/// The envelope every completion answer shares, whole or streamed: `text_completion`,
/// `chat.completion` or `chat.completion.chunk` objects around their choices (`usage` sent as null
/// when absent, as OpenAI does).
public struct CompletionObject<Choice: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    init(id: String, object: String, created: Int, model: String, choices: [Choice], usage: Usage?) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        try c.encode(choices, forKey: .choices)
        try c.encode(usage, forKey: .usage)
    }
}

/// `text_completion` objects (the same object per streamed chunk, as OpenAI sends).
public typealias CompletionResponse = CompletionObject<CompletionChoice>

extension CompletionObject where Choice == CompletionChoice {
    public init(id: String, created: Int, model: String, choices: [CompletionChoice], usage: Usage?) {
        self.init(id: id, object: "text_completion", created: created, model: model, choices: choices, usage: usage)
    }
}

/// One token's logprob in the chat format, with its alternatives.
public struct ChatTokenLogprob: Codable, Equatable, Sendable {
    public struct Alternative: Codable, Equatable, Sendable {
        public var token: String
        public var logprob: Float
        public var bytes: [UInt8]
    }
    public var token: String
    public var logprob: Float
    public var bytes: [UInt8]
    public var topLogprobs: [Alternative]

    enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
}

public struct ChatLogprobs: Codable, Equatable, Sendable {
    public var content: [ChatTokenLogprob]
}

public struct ChatMessageOut: Codable, Equatable, Sendable {
    public var role: String?
    public var content: String?

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(role, forKey: .role)
        try c.encodeIfPresent(content, forKey: .content)
    }
}

public struct ChatChoice: Codable, Equatable, Sendable {
    public var index: Int
    /// `message` in a whole response, `delta` in a streamed chunk.
    public var message: ChatMessageOut?
    public var delta: ChatMessageOut?
    public var logprobs: ChatLogprobs?
    public var finishReason: String?

    enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finishReason = "finish_reason" }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(delta, forKey: .delta)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

/// `chat.completion` and `chat.completion.chunk` objects.
public typealias ChatCompletionResponse = CompletionObject<ChatChoice>

extension CompletionObject where Choice == ChatChoice {
    public init(id: String, chunk: Bool, created: Int, model: String, choices: [ChatChoice], usage: Usage?) {
        self.init(id: id, object: chunk ? "chat.completion.chunk" : "chat.completion", created: created, model: model,
                  choices: choices, usage: usage)
    }
}

/// `GET /v1/models`.
public struct ModelList: Codable, Equatable, Sendable {
    public struct Model: Codable, Equatable, Sendable {
        public var id: String
        public var object = "model"
        public var created: Int
        public var ownedBy = "peregrine"
        public var maxModelLen: Int

        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", maxModelLen = "max_model_len" }
    }
    public var object = "list"
    public var data: [Model]
}
