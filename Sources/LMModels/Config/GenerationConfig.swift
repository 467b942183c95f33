/// `generation_config.json`: the model's generation defaults. Only what Peregrine uses is read;
/// unknown keys are ignored.
public struct GenerationConfig: Decodable, Sendable, Equatable {
    public var bosTokenID: TokenIDList?
    public var eosTokenID: TokenIDList?
    public var padTokenID: TokenIDList?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var repetitionPenalty: Double?
    public var maxNewTokens: Int?
    public var doSample: Bool?

    enum CodingKeys: String, CodingKey {
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case padTokenID = "pad_token_id"
        case temperature
        case topP = "top_p"
        case topK = "top_k"
        case repetitionPenalty = "repetition_penalty"
        case maxNewTokens = "max_new_tokens"
        case doSample = "do_sample"
    }

    public init() {}

    /// Reads `generation_config.json` from `directory`, or returns nil when there is none.
    public static func load(directory: String) throws(ModelLoadError) -> GenerationConfig? {
        let path = directory + "/generation_config.json"
        guard fileExists(path) else { return nil }
        return try ConfigDecoding.decode(GenerationConfig.self, from: ConfigDecoding.read(path), file: path)
    }
}
