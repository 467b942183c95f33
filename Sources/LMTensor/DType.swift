/// Element types of tensors. Quantized block formats (GGUF, GPTQ, ...) join this list with their
/// block geometry, so byte sizes are always computed through `byteCount(elements:)`.
public enum DType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case f32, f16, bf16, i32, i8

    /// Elements packed together in one block (1 for plain scalar types).
    public var elementsPerBlock: Int { 1 }

    /// Bytes taken by one block.
    public var bytesPerBlock: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .i8: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f16, .bf16: true
        case .i32, .i8: false
        }
    }

    /// Bytes needed for `elements` values; `elements` must be a whole number of blocks.
    public func byteCount(elements: Int) -> Int {
        precondition(elements % elementsPerBlock == 0, "\(elements) is not a whole number of \(self) blocks")
        return elements / elementsPerBlock * bytesPerBlock
    }

    public var description: String { rawValue }
}
