import LMTensor

/// Paged key/value storage of every layer, [blocks, blockSize, Hkv, D] each. Which blocks a
/// sequence owns is decided outside (block tables in `AttentionBatch`).
public final class KVCache: @unchecked Sendable {
    public let layout: KVCacheLayout
    public let layers: [LayerKVCache]

    public init(layout: KVCacheLayout, backend: any Backend) throws {
        self.layout = layout
        layers = try (0..<layout.layerCount).map { _ in
            LayerKVCache(key: try backend.allocate(layout.layerShape, dtype: layout.dtype),
                         value: try backend.allocate(layout.layerShape, dtype: layout.dtype))
        }
    }
}
