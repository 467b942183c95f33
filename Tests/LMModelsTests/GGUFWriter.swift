import Foundation

/// Writes GGUF version-3 files for tests: metadata of every type and tensors with their ggml
/// type ids, aligned as llama.cpp writes them.
struct GGUFWriter {
    enum Value {
        case u32(UInt32), i32(Int32), f32(Float), bool(Bool), string(String), u64(UInt64)
        case strings([String]), i32s([Int32]), f32s([Float]), bools([Bool])
    }

    struct TensorEntry {
        var name: String
        var dimensions: [Int]   // ggml order: innermost first
        var type: UInt32
        var data: Data
    }

    var metadata: [(String, Value)] = []
    var tensors: [TensorEntry] = []
    var alignment = 32
    var version: UInt32 = 3

    mutating func set(_ key: String, _ value: Value) {
        metadata.removeAll { $0.0 == key }
        metadata.append((key, value))
    }

    /// A row-major [N, K] f32 matrix (or any shape) stored as ggml type F32.
    mutating func addF32(_ name: String, shape: [Int], values: [Float]) {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        tensors.append(TensorEntry(name: name, dimensions: shape.reversed(), type: 0, data: data))
    }

    func encode() -> Data {
        var out = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: Array(s.utf8)) }
        out.append(contentsOf: Array("GGUF".utf8))
        u32(version)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            switch value {
            case let .u32(v): u32(4); u32(v)
            case let .i32(v): u32(5); u32(UInt32(bitPattern: v))
            case let .f32(v): u32(6); u32(v.bitPattern)
            case let .bool(v): u32(7); out.append(v ? 1 : 0)
            case let .string(v): u32(8); string(v)
            case let .u64(v): u32(10); u64(v)
            case let .strings(v): u32(9); u32(8); u64(UInt64(v.count)); v.forEach(string)
            case let .i32s(v): u32(9); u32(5); u64(UInt64(v.count)); v.forEach { u32(UInt32(bitPattern: $0)) }
            case let .f32s(v): u32(9); u32(6); u64(UInt64(v.count)); v.forEach { u32($0.bitPattern) }
            case let .bools(v): u32(9); u32(7); u64(UInt64(v.count)); v.forEach { out.append($0 ? 1 : 0) }
            }
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset += (tensor.data.count + alignment - 1) / alignment * alignment
        }
        for (tensor, tensorOffset) in zip(tensors, offsets) {
            string(tensor.name)
            u32(UInt32(tensor.dimensions.count))
            tensor.dimensions.forEach { u64(UInt64($0)) }
            u32(tensor.type)
            u64(UInt64(tensorOffset))
        }
        while out.count % alignment != 0 { out.append(0) }
        for tensor in tensors {
            out.append(tensor.data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    func write(to path: String) throws { try encode().write(to: URL(fileURLWithPath: path)) }
}
