/// Fixed-size KV blocks with reference counts, and the prefix cache over them: a full block is
/// identified by a hash chaining its parent block's hash with its token ids (and an extra key
/// for things like adapters or images later). A block whose last user is gone keeps its
/// contents and hash; it is handed out again least recently freed first, so popular prefixes
/// survive. A value type: the scheduler owns it and tests inspect it.
public struct BlockPool: Sendable {
    public let blockCount: Int
    public let blockSize: Int
    private(set) var referenceCounts: [Int32]
    /// The content key of each block that holds a full, registered block of tokens.
    private var keys: [BlockKey?]
    /// Registered content -> block.
    private var cache: [BlockKey: Int32] = [:]
    // Doubly linked free list in release order (head: least recently freed).
    private var previous: [Int32], next: [Int32]
    private var head: Int32 = -1, tail: Int32 = -1
    public private(set) var freeCount: Int

    /// Hits and lookups of the prefix cache, in blocks.
    public private(set) var cacheHits = 0
    public private(set) var cacheQueries = 0

    public init(blockCount: Int, blockSize: Int) {
        precondition(blockCount > 0 && blockSize > 0)
        self.blockCount = blockCount
        self.blockSize = blockSize
        referenceCounts = Array(repeating: 0, count: blockCount)
        keys = Array(repeating: nil, count: blockCount)
        previous = Array(repeating: -1, count: blockCount)
        next = Array(repeating: -1, count: blockCount)
        freeCount = 0
        for block in 0..<Int32(blockCount) { appendFree(block) }
    }

    /// Blocks in use by at least one sequence.
    public var usedCount: Int { blockCount - freeCount }

    public func referenceCount(_ block: Int32) -> Int32 { referenceCounts[Int(block)] }
    public func isCached(_ block: Int32) -> Bool { keys[Int(block)] != nil }

    /// A block for new tokens: the least recently freed one, whose cached contents are dropped.
    public mutating func allocate() -> Int32? {
        guard head >= 0 else { return nil }
        let block = head
        removeFree(block)
        if let key = keys[Int(block)] {
            cache.removeValue(forKey: key)
            keys[Int(block)] = nil
        }
        referenceCounts[Int(block)] = 1
        return block
    }

    /// The cached block holding `key`'s tokens, taking a reference to it.
    public mutating func lookup(_ key: BlockKey) -> Int32? {
        cacheQueries += 1
        guard let block = cache[key] else { return nil }
        cacheHits += 1
        retain(block)
        return block
    }

    public mutating func retain(_ block: Int32) {
        if referenceCounts[Int(block)] == 0 { removeFree(block) }
        referenceCounts[Int(block)] += 1
    }

    /// Drops a reference; a block nobody uses joins the free list, keeping its cached contents.
    public mutating func release(_ block: Int32) {
        precondition(referenceCounts[Int(block)] > 0, "block \(block) released more often than retained")
        referenceCounts[Int(block)] -= 1
        if referenceCounts[Int(block)] == 0 { appendFree(block) }
    }

    /// Records that `block` now holds the full block of tokens `key` describes, so later
    /// requests with the same prefix can share it. A block already registered under that key
    /// elsewhere keeps the registration (this block stays private).
    public mutating func register(_ block: Int32, as key: BlockKey) {
        guard keys[Int(block)] == nil, cache[key] == nil else { return }
        keys[Int(block)] = key
        cache[key] = block
    }

    // MARK: Free list

    private mutating func appendFree(_ block: Int32) {
        previous[Int(block)] = tail
        next[Int(block)] = -1
        if tail >= 0 { next[Int(tail)] = block } else { head = block }
        tail = block
        freeCount += 1
    }

    private mutating func removeFree(_ block: Int32) {
        let p = previous[Int(block)], n = next[Int(block)]
        if p >= 0 { next[Int(p)] = n } else { head = n }
        if n >= 0 { previous[Int(n)] = p } else { tail = p }
        previous[Int(block)] = -1
        next[Int(block)] = -1
        freeCount -= 1
    }
}

/// The content of a full block: its parent's chain hash, its token ids, and an extra key.
public struct BlockKey: Hashable, Sendable {
    public let parent: UInt64
    public let tokens: [Int32]
    public let extra: UInt64
    /// The chain hash children of this block use as their parent (keyed SipHash via Hasher:
    /// unpredictable to clients, so prompts cannot be crafted to collide). Computed once, over
    /// the token bytes in one go; lookups still compare the whole key, tokens included.
    public let chainHash: UInt64

    public init(parent: UInt64, tokens: [Int32], extra: UInt64 = 0) {
        self.parent = parent
        self.tokens = tokens
        self.extra = extra
        var hasher = Hasher()
        hasher.combine(parent)
        hasher.combine(extra)
        tokens.withUnsafeBytes { hasher.combine(bytes: $0) }
        chainHash = UInt64(bitPattern: Int64(hasher.finalize()))
    }

    public static func == (a: BlockKey, b: BlockKey) -> Bool {
        a.chainHash == b.chainHash && a.parent == b.parent && a.extra == b.extra && a.tokens == b.tokens
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(chainHash) }
}
