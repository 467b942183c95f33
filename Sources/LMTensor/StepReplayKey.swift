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
