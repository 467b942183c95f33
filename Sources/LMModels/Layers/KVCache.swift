import LMTensor

/// Paged key/value storage of every layer, [blocks, blockSize, Hkv, D] each. Which blocks a
/// sequence owns is decided outside (block tables in `AttentionBatch`).
public final class KVCache: @unchecked Sendable {
    public let layout: KVCacheLayout
    public let layers: [LayerKVCache]
    /// A block past the ones handed out (`layout.blockCount` of them, numbered from 0) where
    /// rows that only pad a batch write their keys; nil when the cache has none.
    public let paddingBlock: Int32?

    /// - Parameter paddingBlock: allocate one more block than `layout` counts, for padding rows.
    public init(layout: KVCacheLayout, backend: any Backend, paddingBlock: Bool = false) throws {
        self.layout = layout
        self.paddingBlock = paddingBlock ? Int32(layout.blockCount) : nil
        var allocated = layout
        if paddingBlock { allocated.blockCount += 1 }
        layers = try (0..<layout.layerCount).map { _ in
            LayerKVCache(key: try backend.allocate(allocated.layerShape, dtype: layout.dtype),
                         value: try backend.allocate(allocated.layerShape, dtype: layout.dtype))
        }
    }
}
