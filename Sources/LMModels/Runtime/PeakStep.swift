import LMTensor

extension DecoderModel {
    /// Runs the largest step an engine will plan — `tokens` prompt tokens, in sequences of at most
    /// `maxSequenceLength`, with logits for the last `logitRows` rows — against a throwaway KV
    /// cache, and waits for it. A backend that keeps its step scratch (CUDA) holds its peak
    /// afterwards, so the memory still free is what the KV cache may take (vLLM's profile run).
    public func runPeakStep(tokens: Int, logitRows: Int, maxSequenceLength: Int, blockSize: Int = 16) throws {
        precondition(tokens > 0 && logitRows > 0 && maxSequenceLength > 0 && blockSize > 0)
        var spans: [SequenceSpan] = [], positions: [Int32] = [], slots: [Int32] = []
        var start = 0, nextBlock = 0
        while start < tokens {
            let length = min(maxSequenceLength, tokens - start)
            let blocks = (length + blockSize - 1) / blockSize
            spans.append(SequenceSpan(queryStart: start, queryCount: length, contextLength: length,
                                      blockTable: (nextBlock..<nextBlock + blocks).map { Int32($0) }))
            positions += (0..<length).map { Int32($0) }
            slots += (0..<length).map { Int32(nextBlock * blockSize + $0) }
            start += length
            nextBlock += blocks
        }
        let cache = try makeKVCache(blockCount: nextBlock, blockSize: blockSize)
        let batch = ForwardBatch(tokens: [Int32](repeating: 0, count: tokens), positions: positions,
                                 attention: AttentionBatch(sequences: spans, slotMapping: slots, blockSize: blockSize),
                                 logitRows: (max(0, tokens - logitRows)..<tokens).map { Int32($0) })
        let logits = try forward(batch, cache: cache)
        _ = backend.argmax(logits)   // reading a result back waits for the step
    }
}
