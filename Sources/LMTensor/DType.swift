/// Element types of tensors: plain scalars and block-quantized weight formats (GGUF's, with
/// ggml's block geometry). Byte sizes always go through `byteCount(elements:)`.
public enum DType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case f32, f16, bf16, i32, i8
    case q8_0 = "Q8_0", q4_0 = "Q4_0", q4_1 = "Q4_1", q5_0 = "Q5_0", q5_1 = "Q5_1"
    case q4K = "Q4_K", q5K = "Q5_K", q6K = "Q6_K"

    /// Elements packed together in one block (1 for plain scalar types).
    public var elementsPerBlock: Int {
        switch self {
        case .f32, .f16, .bf16, .i32, .i8: 1
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1: 32
        case .q4K, .q5K, .q6K: 256
        }
    }

    /// Bytes taken by one block.
    public var bytesPerBlock: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .i8: 1
        case .q8_0: 34
        case .q4_0: 18
        case .q4_1: 20
        case .q5_0: 22
        case .q5_1: 24
        case .q4K: 144
        case .q5K: 176
        case .q6K: 210
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f16, .bf16: true
        default: false
        }
    }

    public var isQuantized: Bool { elementsPerBlock > 1 }

    /// Weights of this type can feed `Backend.linear` and `gatherRows`.
    public var isWeightType: Bool { isFloatingPoint || isQuantized }

    /// Bytes needed for `elements` values; `elements` must be a whole number of blocks.
    public func byteCount(elements: Int) -> Int {
        precondition(elements % elementsPerBlock == 0, "\(elements) is not a whole number of \(self) blocks")
        return elements / elementsPerBlock * bytesPerBlock
    }

    /// Bits per weight, for sizes and bandwidth figures.
    public var bitsPerElement: Double { Double(bytesPerBlock * 8) / Double(elementsPerBlock) }

    public var description: String { rawValue }
}
