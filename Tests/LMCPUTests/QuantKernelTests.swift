import Foundation
import LMCPU
import LMTensor
import Testing

/// Dequantizers against the reference implementation (`gguf.quants`, vectors made by
/// scripts/make-quant-vectors.py) bit for bit, and linears over packed blocks against a
/// double-precision product with the reference values.
@Suite struct QuantKernelTests {
    struct Vectors: Decodable {
        struct Entry: Decodable {
            let block_values: Int
            let block_bytes: Int
            let bytes: String
            let values: [UInt32]
        }
        let types: [String: Entry]
    }

    static let vectors: Vectors = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/quant-vectors.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: path))
    }()

    static let types: [DType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4K, .q5K, .q6K, .f16, .bf16]

    struct Blocks {
        let bytes: [UInt8]
        let values: [Float]
    }

    static func blocks(_ dtype: DType) -> Blocks {
        let entry = vectors.types[dtype.rawValue.uppercased()]!
        precondition(entry.block_values == dtype.elementsPerBlock && entry.block_bytes == dtype.bytesPerBlock)
        var bytes: [UInt8] = []
        var index = entry.bytes.startIndex
        while index < entry.bytes.endIndex {
            let next = entry.bytes.index(index, offsetBy: 2)
            bytes.append(UInt8(entry.bytes[index..<next], radix: 16)!)
            index = next
        }
        return Blocks(bytes: bytes, values: entry.values.map { Float(bitPattern: $0) })
    }

    static func tensor(_ backend: CPUBackend, bytes: [UInt8], dtype: DType, shape: Shape) throws -> Tensor {
        let storage = HostAllocation(byteCount: bytes.count)
        bytes.withUnsafeBytes { storage.pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        let tensor = try backend.allocate(shape, dtype: dtype)
        backend.copy(from: HostTensor(name: "q", dtype: dtype, shape: shape, bytes: storage.bytes, owner: storage), to: tensor)
        return tensor
    }

    @Test(arguments: Reference.levels, types)
    func dequantizeMatchesReferenceBitForBit(isa: CPUInstructionSet, dtype: DType) throws {
        let backend = try CPUBackend(threads: 2, isa: isa)
        let blocks = Self.blocks(dtype)
        // As embedding rows: gatherRows dequantizes whole rows of blocks.
        let rowValues = dtype.elementsPerBlock == 1 ? 32 : dtype.elementsPerBlock
        let rows = blocks.values.count / rowValues
        let table = try Self.tensor(backend, bytes: blocks.bytes, dtype: dtype, shape: Shape(rows, rowValues))
        let ids = try backend.allocate(Shape(rows), dtype: .i32)
        backend.upload((0..<Int32(rows)).reversed(), to: ids)
        let out = try backend.allocate(Shape(rows, rowValues), dtype: .f32)
        backend.gatherRows(table, indices: ids, out: out)
        let result = backend.download(out)
        var mismatches = 0
        for r in 0..<rows {
            for j in 0..<rowValues where result[r * rowValues + j].bitPattern != blocks.values[(rows - 1 - r) * rowValues + j].bitPattern {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(dtype) on \(isa): \(mismatches) of \(blocks.values.count) values differ")
    }

    @Test(arguments: Reference.levels, types)
    func linearOverPackedBlocks(isa: CPUInstructionSet, dtype: DType) throws {
        let backend = try CPUBackend(threads: 2, isa: isa)
        let source = Self.blocks(dtype)
        let blockCount = source.bytes.count / dtype.bytesPerBlock
        var random = Reference.Random(seed: 99)
        // 18 blocks of 32 (a full gather group of 16 plus 2) or 3 super-blocks of 256.
        let blocksPerRow = dtype.elementsPerBlock == 1 ? 96 : dtype.elementsPerBlock == 32 ? 18 : 3
        let k = blocksPerRow * dtype.elementsPerBlock
        for (t, n) in [(1, 1), (1, 67), (3, 9), (5, 64), (70, 21)] {
            var bytes: [UInt8] = [], values: [Float] = []
            for i in 0..<(n * blocksPerRow) {
                let b = (i * 7 + n) % blockCount   // cycle through the reference blocks
                bytes += source.bytes[(b * dtype.bytesPerBlock)..<((b + 1) * dtype.bytesPerBlock)]
                values += source.values[(b * dtype.elementsPerBlock)..<((b + 1) * dtype.elementsPerBlock)]
            }
            let w = try Self.tensor(backend, bytes: bytes, dtype: dtype, shape: Shape(n, k))
            let x = random.floats(t * k), bias = random.floats(n)
            let out = try backend.allocate(Shape(t, n), dtype: .f32)
            backend.linear(try Reference.tensor(backend, x, Shape(t, k)), weight: w, bias: try Reference.tensor(backend, bias, Shape(n)), out: out)
            let error = Reference.maxRelativeError(backend.download(out), Reference.linear(x, values, bias, t: t, n: n, k: k))
            #expect(error < 1e-5, "\(dtype) on \(isa), T=\(t) N=\(n) K=\(k): \(error)")
        }
    }
}
