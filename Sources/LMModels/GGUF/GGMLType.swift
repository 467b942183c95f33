import LMTensor

/// ggml's tensor types as GGUF files number them (ggml.h `enum ggml_type`), with their block
/// geometry so every tensor's byte range can be checked, and the `DType` Peregrine computes
/// with where it has kernels for it.
struct GGMLType: Equatable, CustomStringConvertible {
    let id: UInt32
    let name: String
    let blockValues: Int
    let blockBytes: Int

    static let known: [UInt32: GGMLType] = {
        let table: [(UInt32, String, Int, Int)] = [
            (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20),
            (6, "Q5_0", 32, 22), (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 40),
            (10, "Q2_K", 256, 84), (11, "Q3_K", 256, 110), (12, "Q4_K", 256, 144), (13, "Q5_K", 256, 176),
            (14, "Q6_K", 256, 210), (15, "Q8_K", 256, 292), (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74),
            (18, "IQ3_XXS", 256, 98), (19, "IQ1_S", 256, 50), (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110),
            (22, "IQ2_S", 256, 82), (23, "IQ4_XS", 256, 136), (24, "I8", 1, 1), (25, "I16", 1, 2),
            (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8), (29, "IQ1_M", 256, 56),
            (30, "BF16", 1, 2), (34, "TQ1_0", 256, 54), (35, "TQ2_0", 256, 66), (39, "MXFP4", 32, 17),
            (40, "NVFP4", 64, 36), (41, "Q1_0", 128, 18),
        ]
        return Dictionary(uniqueKeysWithValues: table.map { ($0.0, GGMLType(id: $0.0, name: $0.1, blockValues: $0.2, blockBytes: $0.3)) })
    }()

    /// The dtype Peregrine's kernels read this type as, or nil when they cannot.
    var dtype: DType? {
        switch name {
        case "F32": .f32
        case "F16": .f16
        case "BF16": .bf16
        case "Q8_0": .q8_0
        case "Q4_0": .q4_0
        case "Q4_1": .q4_1
        case "Q5_0": .q5_0
        case "Q5_1": .q5_1
        case "Q4_K": .q4K
        case "Q5_K": .q5K
        case "Q6_K": .q6K
        case "I32": .i32
        case "I8": .i8
        default: nil
        }
    }

    var description: String { name }
}
