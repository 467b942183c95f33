/// Which KV blocks each request owns, on top of the shared `BlockPool`: prefix-cache lookups on
/// admission, slot allocation as tokens are scheduled, registration of blocks once full, and
/// release. Shared blocks are only ever full, registered ones below a request's computed
/// tokens, so no block is written while another request reads it.
public struct KVCacheManager: Sendable {
    public private(set) var pool: BlockPool
    public let prefixCaching: Bool
    private var tables: [RequestID: Table] = [:]

    struct Table {
        var blocks: [Int32] = []
        /// Chain hashes of the leading full blocks already registered (or found) in the cache.
        var hashes: [UInt64] = []
    }

    public init(blockCount: Int, blockSize: Int, prefixCaching: Bool = true) {
        pool = BlockPool(blockCount: blockCount, blockSize: blockSize)
        self.prefixCaching = prefixCaching
    }

    public var blockSize: Int { pool.blockSize }

    public func blockTable(_ id: RequestID) -> [Int32] { tables[id]?.blocks ?? [] }

    /// Blocks needed to hold `tokens` tokens.
    public func blocksFor(_ tokens: Int) -> Int { (tokens + pool.blockSize - 1) / pool.blockSize }

    /// For a request about to start: takes references to the cached blocks matching its leading
    /// full blocks and returns how many tokens they hold. At least one token is always left to
    /// compute (the last prompt token's logits are needed), so a fully cached prompt still runs
    /// its last block's final token in a block of its own.
    /// With `lookup` off (the request needs every position computed) nothing is reused.
    public mutating func admit(_ id: RequestID, tokens: [Int32], extra: UInt64 = 0, lookup: Bool = true) -> Int {
        var table = Table()
        if prefixCaching && lookup {
            let usable = max(0, (tokens.count - 1) / pool.blockSize)
            var parent: UInt64 = 0
            for b in 0..<usable {
                let key = BlockKey(parent: parent, tokens: Array(tokens[(b * pool.blockSize)..<((b + 1) * pool.blockSize)]), extra: extra)
                guard let block = pool.lookup(key) else { break }
                table.blocks.append(block)
                parent = key.chainHash
                table.hashes.append(parent)
            }
        }
        tables[id] = table
        return table.blocks.count * pool.blockSize
    }

    /// Ensures the request has blocks for `totalTokens` tokens; false (and no block taken)
    /// when the pool cannot provide them.
    public mutating func allocate(_ id: RequestID, totalTokens: Int) -> Bool {
        if tables[id] == nil { tables[id] = Table() }
        let index = tables.index(forKey: id)!
        // In place: reading the table out would retain its arrays, appending would copy them.
        return Self.grow(&tables.values[index], to: blocksFor(totalTokens), from: &pool)
    }

    private static func grow(_ table: inout Table, to blocks: Int, from pool: inout BlockPool) -> Bool {
        let needed = blocks - table.blocks.count
        guard needed <= pool.freeCount else { return false }
        for _ in 0..<max(0, needed) { table.blocks.append(pool.allocate()!) }
        return true
    }

    /// Registers the request's blocks that became full of computed tokens, so later requests
    /// with the same prefix can share them.
    public mutating func commit(_ id: RequestID, tokens: [Int32], computed: Int, extra: UInt64 = 0) {
        guard prefixCaching, let index = tables.index(forKey: id) else { return }
        // The table is passed in place: reading it out would retain its arrays every step.
        Self.register(&tables.values[index], in: &pool, tokens: tokens, computed: computed, extra: extra)
    }

    private static func register(_ table: inout Table, in pool: inout BlockPool, tokens: [Int32], computed: Int, extra: UInt64) {
        let full = min(computed / pool.blockSize, table.blocks.count)
        while table.hashes.count < full {
            let b = table.hashes.count
            let key = BlockKey(parent: table.hashes.last ?? 0, tokens: Array(tokens[(b * pool.blockSize)..<((b + 1) * pool.blockSize)]), extra: extra)
            pool.register(table.blocks[b], as: key)
            table.hashes.append(key.chainHash)
        }
    }

    /// Releases all the request's blocks (they stay cached until reused).
    public mutating func free(_ id: RequestID) {
        guard let table = tables.removeValue(forKey: id) else { return }
        // Release the tail first so the prefix, freed last, is evicted last.
        for block in table.blocks.reversed() { pool.release(block) }
    }

    public var prefixCacheHitRate: Double {
        pool.cacheQueries == 0 ? 0 : Double(pool.cacheHits) / Double(pool.cacheQueries)
    }
}

/// Identifies a request inside the engine.
public typealias RequestID = Int
