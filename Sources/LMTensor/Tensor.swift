/// Memory owned by a backend (host RAM, a GPU allocation, a mapped file). Backends downcast to
/// their own buffer type; a tensor never outlives its buffer because it holds a reference.
public protocol DeviceBuffer: AnyObject, Sendable {
    var byteCount: Int { get }
}

/// A contiguous, row-major view into a `DeviceBuffer`: dtype, shape and byte offset.
/// Views (`reshaped`, `rows`) share the buffer and never copy.
public struct Tensor: Sendable {
    public let buffer: any DeviceBuffer
    public let dtype: DType
    public let shape: Shape
    public let byteOffset: Int

    public init(buffer: any DeviceBuffer, dtype: DType, shape: Shape, byteOffset: Int = 0) {
        precondition(byteOffset >= 0 && byteOffset + dtype.byteCount(elements: shape.elementCount) <= buffer.byteCount,
                     "tensor \(shape) \(dtype) at offset \(byteOffset) exceeds its buffer of \(buffer.byteCount) bytes")
        self.buffer = buffer
        self.dtype = dtype
        self.shape = shape
        self.byteOffset = byteOffset
    }

    public var elementCount: Int { shape.elementCount }
    public var byteCount: Int { dtype.byteCount(elements: shape.elementCount) }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: Shape) -> Tensor {
        precondition(newShape.elementCount == shape.elementCount, "cannot reshape \(shape) to \(newShape)")
        return Tensor(buffer: buffer, dtype: dtype, shape: newShape, byteOffset: byteOffset)
    }

    public func reshaped(_ dims: Int...) -> Tensor { reshaped(Shape(dims)) }

    /// Rows `range` along the first dimension.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(shape.rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "rows \(range) out of bounds for \(shape)")
        var newShape = shape
        newShape[0] = range.count
        let rowBytes = dtype.byteCount(elements: shape.elementCount / Swift.max(shape[0], 1))
        return Tensor(buffer: buffer, dtype: dtype, shape: newShape, byteOffset: byteOffset + range.lowerBound * rowBytes)
    }
}
