import LMTensor

/// Runs one sequence through a model with its own paged KV cache: the prompt once, then one
/// token (or a few) per step. The building block of `peregrine generate`; the engine batches
/// many sequences instead.
public final class SequenceSession {
    public let model: DecoderModel
    public let capacity: Int
    private let cache: KVCache
    private var allocator: BlockAllocator
    private var blocks: SequenceBlocks

    /// Which rows' logits a step returns.
    public enum LogitRows: Sendable { case last, all }

    /// - Parameter capacity: the most tokens the sequence may hold (defaults to the model's context).
    public init(model: DecoderModel, capacity: Int? = nil, blockSize: Int = 16) throws {
        self.model = model
        self.capacity = capacity ?? model.spec.maxPositions
        let blockCount = (self.capacity + blockSize - 1) / blockSize
        cache = try model.makeKVCache(blockCount: blockCount, blockSize: blockSize)
        allocator = BlockAllocator(blockCount: blockCount)
        blocks = SequenceBlocks(blockSize: blockSize)
    }

    /// Tokens in the cache.
    public var length: Int { blocks.length }

    /// Appends `tokens`, runs them, and returns the logits of the last (or every) new token,
    /// [R, V] (a view valid until the next step). With `fed`, those rows of `tokens` are
    /// placeholders for tokens an earlier step left on the device.
    public func extend(_ tokens: [Int32], logits: LogitRows = .last, fed: FedTokens? = nil) throws -> Tensor {
        guard !tokens.isEmpty else { throw ForwardError.emptyBatch }
        guard length + tokens.count <= capacity else {
            throw ForwardError.contextTooLong(length: length + tokens.count, limit: capacity)
        }
        let start = length
        guard let slots = blocks.append(tokens.count, from: &allocator) else {
            throw ForwardError.contextTooLong(length: length + tokens.count, limit: capacity)
        }
        let span = SequenceSpan(queryStart: 0, queryCount: tokens.count, contextLength: blocks.length, blockTable: blocks.blockTable)
        var batch = ForwardBatch(
            tokens: tokens,
            positions: (start..<(start + tokens.count)).map(Int32.init),
            attention: AttentionBatch(sequences: [span], slotMapping: slots, blockSize: blocks.blockSize),
            logitRows: logits == .last ? [Int32(tokens.count - 1)] : (0..<Int32(tokens.count)).map { $0 })
        batch.fedTokens = fed
        do {
            return try model.forward(batch, cache: cache)
        } catch {
            reset()  // a failed step leaves no half-written state behind
            throw error
        }
    }

    /// Forgets the sequence (its blocks return to the pool).
    public func reset() {
        blocks.release(to: &allocator)
    }
}
