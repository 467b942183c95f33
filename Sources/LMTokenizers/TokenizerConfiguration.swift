/// What a model's tokenizer configuration adds to the vocabulary: special token strings and
/// ids, whether to add BOS/EOS, and the chat template.
public struct TokenizerConfiguration: Sendable, Equatable {
    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unknownToken: String?
    public var bosTokenID: Int32?
    public var eosTokenID: Int32?
    public var addBOS: Bool?
    public var addEOS: Bool?
    /// The default chat template, and named ones ("tool_use", ...).
    public var chatTemplate: String?
    public var namedChatTemplates: [String: String] = [:]

    public init() {}
}
