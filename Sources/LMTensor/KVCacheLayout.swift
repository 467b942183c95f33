/// Geometry of a paged KV cache: `blockCount` blocks of `blockSize` token slots, each slot holding
/// `kvHeads * headDim` keys and as many values, for every layer.
public struct KVCacheLayout: Sendable, Equatable {
    public var layerCount: Int
    public var blockCount: Int
    public var blockSize: Int
    public var kvHeads: Int
    public var headDim: Int
    public var dtype: DType

    public init(layerCount: Int, blockCount: Int, blockSize: Int, kvHeads: Int, headDim: Int, dtype: DType) {
        self.layerCount = layerCount
        self.blockCount = blockCount
        self.blockSize = blockSize
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.dtype = dtype
    }

    /// [blocks, blockSize, Hkv, D] of one layer's keys (or values).
    public var layerShape: Shape { Shape(blockCount, blockSize, kvHeads, headDim) }

    /// Bytes of keys and values of all layers.
    public var byteCount: Int { 2 * layerCount * dtype.byteCount(elements: layerShape.elementCount) }

    /// Bytes one token occupies across all layers (keys and values).
    public var bytesPerToken: Int { 2 * layerCount * dtype.byteCount(elements: kvHeads * headDim) }
}

/// The keys and values of one layer, each [blocks, blockSize, Hkv, D].
public struct LayerKVCache: Sendable {
    public let key: Tensor
    public let value: Tensor

    public init(key: Tensor, value: Tensor) {
        self.key = key
        self.value = value
    }
}
