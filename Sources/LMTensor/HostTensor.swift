/// Read-only tensor bytes in host memory, typically a slice of a memory-mapped checkpoint.
/// `owner` keeps the memory alive (a mapping, an array) for as long as any copy of this value.
public struct HostTensor: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: Shape
    public let bytes: UnsafeRawBufferPointer
    public let owner: AnyObject?

    public init(name: String, dtype: DType, shape: Shape, bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
        precondition(bytes.count == dtype.byteCount(elements: shape.elementCount),
                     "\(name): \(bytes.count) bytes do not hold \(shape) \(dtype)")
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
        self.owner = owner
    }
}

/// An owned, growable host allocation usable as a `HostTensor` owner (random weights, converted data).
public final class HostAllocation: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int, alignment: Int = 64) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(byteCount, 1), alignment: alignment)
    }

    deinit { pointer.deallocate() }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: byteCount) }
}
