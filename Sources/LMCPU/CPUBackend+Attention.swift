import LMCPUKernels
import LMTensor

extension CPUBackend {
    /// Queries of one sequence and head handled by one task.
    static let attentionQueryChunk = 16

    /// Copies each new token's key and value rows into its cache slot   key, value [T, Hkv, D],
    /// cache [blocks, blockSize, Hkv, D] f32.
    public func writeKV(key: Tensor, value: Tensor, cache: LayerKVCache, batch: AttentionBatch) {
        precondition(key.shape[0] == batch.tokenCount && value.shape == key.shape, "writeKV: key \(key.shape), value \(value.shape) for \(batch.tokenCount) tokens")
        let rowWidth = key.elementCount / max(batch.tokenCount, 1)
        precondition(cache.key.shape[2] * cache.key.shape[3] == rowWidth, "writeKV: cache \(cache.key.shape) for rows of \(rowWidth)")
        let slots = cache.key.shape[0] * cache.key.shape[1]
        let kp = key.floats, vp = value.floats, kc = cache.key.floats, vc = cache.value.floats
        for (t, slot) in batch.slotMapping.enumerated() {
            precondition(slot >= 0 && Int(slot) < slots, "writeKV: slot \(slot) outside 0..<\(slots)")
            (kc + Int(slot) * rowWidth).update(from: kp + t * rowWidth, count: rowWidth)
            (vc + Int(slot) * rowWidth).update(from: vp + t * rowWidth, count: rowWidth)
        }
    }

    /// Causal (optionally sliding-window) GQA attention over the paged cache, one task per
    /// (sequence, query chunk, head)   query [T, Hq, D], out [T, Hq, D].
    public func attention(query: Tensor, cache: LayerKVCache, batch: AttentionBatch, scale: Float,
                          slidingWindow: Int?, out: Tensor) {
        precondition(query.shape.rank == 3 && out.shape == query.shape, "attention: query \(query.shape), out \(out.shape)")
        let heads = query.shape[1], dim = query.shape[2]
        let kvHeads = cache.key.shape[2], blockSize = cache.key.shape[1]
        precondition(cache.key.shape[3] == dim && heads % kvHeads == 0 && blockSize == batch.blockSize,
                     "attention: query \(query.shape) against cache \(cache.key.shape) (block size \(batch.blockSize))")
        let group = heads / kvHeads, chunk = Self.attentionQueryChunk
        let sequences = batch.sequences
        var taskStarts: [Int] = []
        taskStarts.reserveCapacity(sequences.count + 1)
        var total = 0, longest = 0
        for sequence in sequences {
            precondition(sequence.blockTable.count * blockSize >= sequence.contextLength,
                         "attention: block table of \(sequence.blockTable.count) blocks for \(sequence.contextLength) tokens")
            taskStarts.append(total)
            total += (sequence.queryCount + chunk - 1) / chunk * heads
            longest = max(longest, sequence.contextLength)
        }
        taskStarts.append(total)
        reserveThreadScratch(floats: longest)
        let qp = query.floats, op = out.floats, kc = cache.key.floats, vc = cache.value.floats
        let slotStride = Int64(kvHeads * dim)

        pool.parallelFor(total) { task, thread in
            var s = 0
            while taskStarts[s + 1] <= task { s += 1 }
            let sequence = sequences[s]
            let local = task - taskStarts[s], head = local % heads, first = local / heads * chunk
            let headOffset = Int64(head / group * dim)
            sequence.blockTable.withUnsafeBufferPointer { table in
                for i in first..<min(sequence.queryCount, first + chunk) {
                    let row = sequence.queryStart + i, position = sequence.firstPosition + i
                    let start = slidingWindow.map { max(0, position - $0 + 1) } ?? 0
                    let offset = (row * heads + head) * dim
                    self.kernels.attention_row(qp + offset, kc, vc, table.baseAddress, Int64(blockSize), slotStride,
                                               headOffset, Int64(start), Int64(position + 1), Int64(dim), scale,
                                               self.scratch(thread: thread), op + offset)
                }
            }
        }
    }
}
