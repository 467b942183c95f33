/// Hands out KV-cache blocks from a fixed pool (lowest index first). The engine's block pool,
/// with prefix sharing and eviction, replaces this for batched serving.
public struct BlockAllocator: Sendable {
    public let blockCount: Int
    private var free: [Int32]

    public init(blockCount: Int) {
        self.blockCount = blockCount
        free = (0..<Int32(blockCount)).reversed()
    }

    public var freeCount: Int { free.count }

    public mutating func allocate() -> Int32? { free.popLast() }

    public mutating func release(_ blocks: [Int32]) {
        free.append(contentsOf: blocks.reversed())
    }
}

/// One sequence's block table and length in a paged cache.
public struct SequenceBlocks: Sendable {
    public let blockSize: Int
    public private(set) var blockTable: [Int32] = []
    public private(set) var length = 0

    public init(blockSize: Int) { self.blockSize = blockSize }

    /// Reserves slots for `count` more tokens and returns them (`block * blockSize + offset`),
    /// or nil (and changes nothing) when the allocator runs out of blocks.
    public mutating func append(_ count: Int, from allocator: inout BlockAllocator) -> [Int32]? {
        let needed = (length + count + blockSize - 1) / blockSize - blockTable.count
        guard needed <= allocator.freeCount else { return nil }
        for _ in 0..<max(needed, 0) { blockTable.append(allocator.allocate()!) }
        let slots = (length..<(length + count)).map { position in
            blockTable[position / blockSize] * Int32(blockSize) + Int32(position % blockSize)
        }
        length += count
        return slots
    }

    public mutating func release(to allocator: inout BlockAllocator) {
        allocator.release(blockTable)
        blockTable = []
        length = 0
    }
}
