/// One sequence's part of a ragged batch: its new tokens are rows
/// `queryStart ..< queryStart + queryCount` of the batch, at positions
/// `contextLength - queryCount ..< contextLength`, and attend causally to every cached or new
/// key at positions `< contextLength` reachable through `blockTable`.
public struct SequenceSpan: Sendable, Equatable {
    public var queryStart: Int
    public var queryCount: Int
    public var contextLength: Int
    /// Physical KV block of each logical block (block `i` holds positions `i*blockSize ..< (i+1)*blockSize`).
    public var blockTable: [Int32]

    public init(queryStart: Int, queryCount: Int, contextLength: Int, blockTable: [Int32]) {
        self.queryStart = queryStart
        self.queryCount = queryCount
        self.contextLength = contextLength
        self.blockTable = blockTable
    }

    /// Position of the first new token.
    public var firstPosition: Int { contextLength - queryCount }
}

/// Layout of a forward step over a paged KV cache: which rows belong to which sequence and
/// where each new token's key and value are stored.
public struct AttentionBatch: Sendable, Equatable {
    public var sequences: [SequenceSpan]
    /// [T] cache slot of each new token: `block * blockSize + offset`.
    public var slotMapping: [Int32]
    public var blockSize: Int

    public init(sequences: [SequenceSpan], slotMapping: [Int32], blockSize: Int) {
        self.sequences = sequences
        self.slotMapping = slotMapping
        self.blockSize = blockSize
    }

    public var tokenCount: Int { slotMapping.count }
}
