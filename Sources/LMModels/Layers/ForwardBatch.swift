import LMTensor

/// One forward step over a ragged batch of sequences: the new tokens of every sequence,
/// concatenated, with their positions and KV-cache layout, and which rows need logits.
public struct ForwardBatch: Sendable {
    public var tokens: [Int32]        // [T]
    public var positions: [Int32]     // [T]
    public var attention: AttentionBatch
    /// Rows of the batch whose logits the caller wants (e.g. each sequence's last token).
    public var logitRows: [Int32]     // [R]
    /// Tokens an earlier step sampled into a device tensor the host has not read: copied into
    /// their rows of `tokens` on the device (their values in `tokens` are placeholders).
    public var fedTokens: FedTokens?

    public init(tokens: [Int32], positions: [Int32], attention: AttentionBatch, logitRows: [Int32]) {
        self.tokens = tokens
        self.positions = positions
        self.attention = attention
        self.logitRows = logitRows
    }
}

/// Rows of a batch whose tokens come from an earlier step's samples on the device:
/// tokens[rows[i]] = source[indices[i]].
public struct FedTokens: Sendable {
    public var source: Tensor          // [S] i32
    public var indices: [Int32]
    public var rows: [Int32]

    public init(source: Tensor, indices: [Int32], rows: [Int32]) {
        self.source = source
        self.indices = indices
        self.rows = rows
    }
}

/// A batch the model cannot run, reported instead of crashing.
public enum ForwardError: Error, Equatable, CustomStringConvertible {
    case emptyBatch
    case inconsistentBatch(String)
    case tokenOutOfRange(token: Int32, vocabSize: Int)
    case contextTooLong(length: Int, limit: Int)

    public var description: String {
        switch self {
        case .emptyBatch: "the batch holds no tokens"
        case let .inconsistentBatch(reason): "inconsistent batch: \(reason)"
        case let .tokenOutOfRange(token, vocab): "token id \(token) is outside the vocabulary (0..<\(vocab))"
        case let .contextTooLong(length, limit): "\(length) tokens exceed the model's context of \(limit)"
        }
    }
}
