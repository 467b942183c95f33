/// `POST /v1/completions`.
public struct CompletionRequest: Decodable, Sendable {
    /// A prompt given as text or as token ids; a request may carry several.
    public enum Prompt: Equatable, Sendable {
        case text(String)
        case tokens([Int32])
    }

    public var model: String?
    public var prompts: [Prompt]
    public var echo: Bool
    /// Alternatives per sampled token (0–20); nil: none.
    public var logprobs: Int?
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey { case model, prompt, echo, logprobs, suffix }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        logprobs = try c.decodeInteger(forKey: .logprobs)
        if c.contains(.suffix), try !c.decodeNil(forKey: .suffix) {
            throw DecodingError.dataCorruptedError(forKey: .suffix, in: c, debugDescription: "suffix is not supported")
        }
        prompts = try Self.prompts(try c.decode(JSONValue.self, forKey: .prompt), container: c)
        sampling = try SamplingFields(from: decoder)
    }

    /// `prompt`: a string, a list of strings, a list of token ids, or a list of lists of ids.
    static func prompts(_ value: JSONValue, container c: KeyedDecodingContainer<CodingKeys>) throws -> [Prompt] {
        func ids(_ values: [JSONValue]) -> [Int32]? {
            var out: [Int32] = []
            for value in values {
                guard case let .int(id) = value, id >= 0, id <= Int(Int32.max) else { return nil }
                out.append(Int32(id))
            }
            return out
        }
        func fail(_ reason: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: .prompt, in: c, debugDescription: reason)
        }
        switch value {
        case let .string(text):
            return [.text(text)]
        case let .array(items) where items.isEmpty:
            throw fail("prompt must not be empty")
        case let .array(items):
            if items.allSatisfy({ if case .string = $0 { true } else { false } }) {
                return items.map { if case let .string(text) = $0 { .text(text) } else { .text("") } }
            }
            if let tokens = ids(items) { return [.tokens(tokens)] }
            var prompts: [Prompt] = []
            for item in items {
                guard case let .array(inner) = item, !inner.isEmpty, let tokens = ids(inner) else {
                    throw fail("prompt must be a string, a list of strings, a list of token ids or a list of lists of token ids")
                }
                prompts.append(.tokens(tokens))
            }
            return prompts
        default:
            throw fail("prompt must be a string or a list, not \(value.kind)")
        }
    }
}
