/// `POST /v1/chat/completions`.
public struct ChatCompletionRequest: Decodable, Sendable {
    public struct Message: Decodable, Equatable, Sendable {
        public var role: String
        /// The text; a list of parts is joined (text parts only until multimodal input lands).
        public var content: String?
        public var name: String?
        public var toolCallID: String?

        enum CodingKeys: String, CodingKey { case role, content, name, toolCallID = "tool_call_id" }
        static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

        public init(role: String, content: String?) {
            self.role = role
            self.content = content
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            role = try c.decode(String.self, forKey: .role)
            guard Self.roles.contains(role) else {
                throw DecodingError.dataCorruptedError(forKey: .role, in: c,
                                                       debugDescription: "role must be one of system, developer, user, assistant, tool; got \"\(role)\"")
            }
            name = try c.decodeIfPresent(String.self, forKey: .name)
            toolCallID = try c.decodeIfPresent(String.self, forKey: .toolCallID)
            switch try c.decodeIfPresent(JSONValue.self, forKey: .content) {
            case nil, .null?:
                content = nil
            case let .string(text)?:
                content = text
            case let .array(parts)?:
                var text = ""
                for part in parts {
                    guard case let .object(fields) = part, fields["type"] == .string("text"), case let .string(piece)? = fields["text"] else {
                        throw DecodingError.dataCorruptedError(forKey: .content, in: c,
                                                               debugDescription: "content parts must be {\"type\": \"text\", \"text\": ...}; other part types are not supported yet")
                    }
                    text += text.isEmpty ? piece : "\n" + piece
                }
                content = text
            case let other?:
                throw DecodingError.dataCorruptedError(forKey: .content, in: c, debugDescription: "content must be a string or a list of parts, not \(other.kind)")
            }
        }
    }

    public var model: String?
    public var messages: [Message]
    public var addGenerationPrompt: Bool
    public var continueFinalMessage: Bool
    public var chatTemplateKwargs: [String: JSONValue]
    public var logprobs: Bool
    public var topLogprobs: Int?
    public var responseFormat: JSONValue?
    public var tools: JSONValue?
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, messages, addGenerationPrompt = "add_generation_prompt", continueFinalMessage = "continue_final_message"
        case chatTemplateKwargs = "chat_template_kwargs", logprobs, topLogprobs = "top_logprobs"
        case maxCompletionTokens = "max_completion_tokens", responseFormat = "response_format", tools
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([Message].self, forKey: .messages)
        guard !messages.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .messages, in: c, debugDescription: "messages must not be empty") }
        addGenerationPrompt = try c.decodeIfPresent(Bool.self, forKey: .addGenerationPrompt) ?? true
        continueFinalMessage = try c.decodeIfPresent(Bool.self, forKey: .continueFinalMessage) ?? false
        chatTemplateKwargs = try c.decodeIfPresent([String: JSONValue].self, forKey: .chatTemplateKwargs) ?? [:]
        logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs) ?? false
        topLogprobs = try c.decodeInteger(forKey: .topLogprobs)
        responseFormat = try c.decodeIfPresent(JSONValue.self, forKey: .responseFormat)
        tools = try c.decodeIfPresent(JSONValue.self, forKey: .tools)
        sampling = try SamplingFields(from: decoder)
        // `max_completion_tokens` is the newer name of `max_tokens`.
        if let newer = try c.decodeInteger(forKey: .maxCompletionTokens) { sampling.maxTokens = newer }
    }
}
