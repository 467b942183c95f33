/// What makes two forward steps launch the same ops with the same arguments, so a backend can
/// record one and replay it for the other (CUDA graphs): the same token and logit-row counts
/// over the same buffers, every sequence decoding one token. Context lengths may differ: the
/// kernels read them from device memory.
public struct StepReplayKey: Hashable, Sendable {
    /// The model whose buffers the step uses; it discards its recordings before freeing them.
    public var owner: ObjectIdentifier
    public var tokens: Int
    public var logitRows: Int

    public init(owner: ObjectIdentifier, tokens: Int, logitRows: Int) {
        self.owner = owner
        self.tokens = tokens
        self.logitRows = logitRows
    }
}

extension StepReplayKey {
    /// The size a decode batch of `tokens` rows is padded to (1, 2, 4, then multiples of 8 up to
    /// 512); nil past the largest. Models pad to it so few recordings serve every batch size, and
    /// a backend may spend more on planning these sizes, since each comes again and again.
    public static func decodeBucket(_ tokens: Int) -> Int? {
        switch tokens {
        case ...0: nil
        case 1, 2: tokens
        case 3, 4: 4
        case ...512: (tokens + 7) / 8 * 8
        default: nil
        }
    }
}
