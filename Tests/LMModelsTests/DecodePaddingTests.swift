import LMCPU
@testable import LMModels
import LMTensor
import Testing

/// Padding a decode batch to its bucket (for CUDA graphs) changes nothing a caller sees: the
/// real rows' logits and the real sequences' cache blocks are those of the unpadded batch.
@Suite struct DecodePaddingTests {
    @Test func paddedDecodeStepsMatchUnpaddedOnes() throws {
        let blockSize = 4, blocks = 16
        let plain = try ModelLoader.load(path: Fixtures.model("tiny-qwen2"), backend: Fixtures.backend).model
        let padding = try ModelLoader.load(path: Fixtures.model("tiny-qwen2"), backend: Fixtures.backend).model
        padding.padsDecodeBatches = true
        #expect(!plain.padsDecodeBatches, "the CPU backend records no steps, so it pads nothing by default")
        let plainCache = try plain.makeKVCache(blockCount: blocks, blockSize: blockSize)
        let paddedCache = try padding.makeKVCache(blockCount: blocks, blockSize: blockSize)
        #expect(plainCache.paddingBlock == nil && paddedCache.paddingBlock == Int32(blocks))

        // Three prompts of 5, 3 and 6 tokens, then three decode steps of all three (padded to 4).
        let prompts: [[Int32]] = [[3, 14, 15, 92, 65], [35, 89, 79], [32, 38, 46, 26, 43, 38]]
        let tables: [[Int32]] = [[0, 1, 2], [3, 4], [5, 6, 7]]
        var lengths = [0, 0, 0]
        func batch(_ rows: [(sequence: Int, tokens: [Int32])]) -> ForwardBatch {
            var tokens: [Int32] = [], positions: [Int32] = [], slots: [Int32] = [], spans: [SequenceSpan] = [], logitRows: [Int32] = []
            for (s, new) in rows {
                spans.append(SequenceSpan(queryStart: tokens.count, queryCount: new.count, contextLength: lengths[s] + new.count, blockTable: tables[s]))
                for (i, token) in new.enumerated() {
                    let position = lengths[s] + i
                    tokens.append(token)
                    positions.append(Int32(position))
                    slots.append(tables[s][position / blockSize] * Int32(blockSize) + Int32(position % blockSize))
                }
                logitRows.append(Int32(tokens.count - 1))
                lengths[s] += new.count
            }
            return ForwardBatch(tokens: tokens, positions: positions,
                                attention: AttentionBatch(sequences: spans, slotMapping: slots, blockSize: blockSize), logitRows: logitRows)
        }
        var steps = [batch(prompts.enumerated().map { ($0.offset, $0.element) })]
        for step in 0..<3 { steps.append(batch((0..<3).map { ($0, [Int32(7 + step * 3 + $0)]) })) }

        for step in steps {
            let expected = Fixtures.backend.download(try plain.forward(step, cache: plainCache))
            let actual = Fixtures.backend.download(try padding.forward(step, cache: paddedCache))
            #expect(actual.count == expected.count, "only the requested rows come back")
            let worst = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-5, "logits differ by \(worst)")
        }
        // Every slot the sequences wrote holds the same key and value in both caches.
        let width = plainCache.layout.kvHeads * plainCache.layout.headDim
        let written = (0..<3).flatMap { s in
            (0..<lengths[s]).map { position in Int(tables[s][position / blockSize]) * blockSize + position % blockSize }
        }
        for (a, b) in zip(plainCache.layers, paddedCache.layers) {
            for (expected, actual) in [(a.key, b.key), (a.value, b.value)] {
                let e = Fixtures.backend.download(expected), x = Fixtures.backend.download(actual)
                #expect(written.allSatisfy { slot in x[(slot * width)..<((slot + 1) * width)] == e[(slot * width)..<((slot + 1) * width)] })
            }
        }
    }

    @Test func promptChunksAreNotPadded() throws {
        let model = try ModelLoader.load(path: Fixtures.model("tiny-llama"), backend: Fixtures.backend).model
        model.padsDecodeBatches = true
        let cache = try model.makeKVCache(blockCount: 4, blockSize: 4)
        let batch = ForwardBatch(tokens: [1, 2, 3], positions: [0, 1, 2],
                                 attention: AttentionBatch(sequences: [SequenceSpan(queryStart: 0, queryCount: 3, contextLength: 3, blockTable: [0])],
                                                           slotMapping: [0, 1, 2], blockSize: 4),
                                 logitRows: [0, 1, 2])
        let perBlock = 4 * cache.layout.kvHeads * cache.layout.headDim
        let before = Array(Fixtures.backend.download(cache.layers[0].key)[(4 * perBlock)...])
        #expect(try model.forward(batch, cache: cache).shape == Shape(3, model.spec.vocabSize))
        // Nothing reached the padding block (block 4): a prompt chunk runs as it is.
        let after = Array(Fixtures.backend.download(cache.layers[0].key)[(4 * perBlock)...])
        #expect(after.count == perBlock && after.elementsEqual(before) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test func bucketsAreOneTwoFourThenMultiplesOfEight() {
        let expected: [Int: Int?] = [1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 8: 8, 9: 16, 63: 64, 64: 64, 65: 72, 512: 512, 513: nil, 0: nil]
        for (tokens, bucket) in expected { #expect(ForwardBatch.decodeBucket(tokens) == bucket, "\(tokens) tokens") }
    }
}
