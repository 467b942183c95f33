import Foundation
import LMCPU
import LMTensor
import Testing

/// Paged causal attention against a direct computation over contiguous keys: GQA, sliding
/// windows, several sequences of a ragged batch, shuffled block tables, partly filled blocks.
@Suite struct AttentionKernelTests {
    struct Case { var heads: Int, kvHeads: Int, dim: Int, blockSize: Int, window: Int?, sequences: [(cached: Int, new: Int)] }

    static let cases = [
        Case(heads: 4, kvHeads: 2, dim: 16, blockSize: 4, window: nil, sequences: [(0, 7)]),
        Case(heads: 4, kvHeads: 4, dim: 32, blockSize: 16, window: nil, sequences: [(20, 1), (0, 13), (33, 3)]),
        Case(heads: 8, kvHeads: 2, dim: 64, blockSize: 8, window: 5, sequences: [(11, 9), (0, 1)]),
        Case(heads: 9, kvHeads: 3, dim: 64, blockSize: 16, window: 16, sequences: [(40, 24)]),
        // Long single-query contexts: keys split over tasks and merged (flash-decoding).
        Case(heads: 8, kvHeads: 2, dim: 32, blockSize: 16, window: nil, sequences: [(1500, 1), (700, 1), (30, 2)]),
        Case(heads: 4, kvHeads: 1, dim: 16, blockSize: 16, window: 600, sequences: [(1000, 1)]),
    ]

    @Test(arguments: Reference.levels)
    func matchesDirectAttention(isa: CPUInstructionSet) throws {
        let backend = try CPUBackend(threads: 2, isa: isa)
        var random = Reference.Random(seed: 3)
        for c in Self.cases {
            let blocksPerSequence = c.sequences.map { ($0.cached + $0.new + c.blockSize - 1) / c.blockSize }
            let blockCount = blocksPerSequence.reduce(0, +) + 3
            let rowWidth = c.kvHeads * c.dim
            var order = Array(0..<Int32(blockCount))
            order.shuffle(using: &random)
            var keys = [Float](repeating: .nan, count: blockCount * c.blockSize * rowWidth)   // unused slots poisoned
            var values = keys
            var queries: [Float] = [], spans: [SequenceSpan] = [], slots: [Int32] = []
            var contiguous: [(k: [Float], v: [Float])] = []
            var nextBlock = 0
            for (s, sequence) in c.sequences.enumerated() {
                let length = sequence.cached + sequence.new
                let table = Array(order[nextBlock..<(nextBlock + blocksPerSequence[s])])
                nextBlock += blocksPerSequence[s]
                let k = random.floats(length * rowWidth), v = random.floats(length * rowWidth)
                contiguous.append((k, v))
                for position in 0..<length {
                    let slot = Int(table[position / c.blockSize]) * c.blockSize + position % c.blockSize
                    keys.replaceSubrange((slot * rowWidth)..<((slot + 1) * rowWidth), with: k[(position * rowWidth)..<((position + 1) * rowWidth)])
                    values.replaceSubrange((slot * rowWidth)..<((slot + 1) * rowWidth), with: v[(position * rowWidth)..<((position + 1) * rowWidth)])
                    if position >= sequence.cached { slots.append(Int32(slot)) }
                }
                spans.append(SequenceSpan(queryStart: queries.count / (c.heads * c.dim), queryCount: sequence.new, contextLength: length, blockTable: table))
                queries += random.floats(sequence.new * c.heads * c.dim)
            }
            let t = queries.count / (c.heads * c.dim)
            let shape = Shape(blockCount, c.blockSize, c.kvHeads, c.dim)
            let cache = LayerKVCache(key: try Reference.tensor(backend, keys, shape), value: try Reference.tensor(backend, values, shape))
            let q = try Reference.tensor(backend, queries, Shape(t, c.heads, c.dim))
            let out = try backend.allocate(Shape(t, c.heads, c.dim), dtype: .f32)
            let scale = 1 / Float(c.dim).squareRoot()
            backend.attention(query: q, cache: cache, batch: AttentionBatch(sequences: spans, slotMapping: slots, blockSize: c.blockSize),
                              scale: scale, slidingWindow: c.window, out: out)
            let result = backend.download(out)

            var expected: [Float] = []
            for (s, sequence) in c.sequences.enumerated() {
                for i in 0..<sequence.new {
                    let position = sequence.cached + i
                    for h in 0..<c.heads {
                        let g = h / (c.heads / c.kvHeads)
                        let qOffset = ((spans[s].queryStart + i) * c.heads + h) * c.dim
                        let first = c.window.map { max(0, position - $0 + 1) } ?? 0
                        var scores: [Double] = (first...position).map { j in
                            var dot = 0.0
                            for d in 0..<c.dim { dot += Double(queries[qOffset + d]) * Double(contiguous[s].k[j * rowWidth + g * c.dim + d]) }
                            return dot * Double(scale)
                        }
                        let top = scores.max()!
                        scores = scores.map { exp($0 - top) }
                        let total = scores.reduce(0, +)
                        for d in 0..<c.dim {
                            var sum = 0.0
                            for (index, j) in (first...position).enumerated() { sum += scores[index] / total * Double(contiguous[s].v[j * rowWidth + g * c.dim + d]) }
                            expected.append(Float(sum))
                        }
                    }
                }
            }
            let error = Reference.maxRelativeError(result, expected)
            #expect(error < 1e-5, "\(isa) heads \(c.heads)/\(c.kvHeads) window \(String(describing: c.window)): \(error)")
        }
    }

    @Test func writeKVStoresRowsAtTheirSlots() throws {
        let backend = try CPUBackend(threads: 1)
        let shape = Shape(3, 2, 1, 2)
        let cache = LayerKVCache(key: try Reference.tensor(backend, Array(repeating: 0, count: 12), shape),
                                 value: try Reference.tensor(backend, Array(repeating: 0, count: 12), shape))
        let key = try Reference.tensor(backend, [1, 2, 3, 4], Shape(2, 1, 2)), value = try Reference.tensor(backend, [5, 6, 7, 8], Shape(2, 1, 2))
        backend.writeKV(key: key, value: value, cache: cache, batch: AttentionBatch(sequences: [], slotMapping: [5, 0], blockSize: 2))
        #expect(backend.download(cache.key) == [3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2])
        #expect(backend.download(cache.value) == [7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6])
    }
}

extension Reference.Random: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545F4914F6CDD1D
    }
}
