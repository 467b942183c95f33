#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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

    /// Causal (optionally sliding-window) GQA attention over the paged cache   query [T, Hq, D],
    /// out [T, Hq, D]. A task handles the query heads of one KV head (so each key and value row
    /// is read once per group) for a chunk of a sequence's queries. Single-query sequences with
    /// long contexts also split their keys over tasks (flash-decoding) and merge the partial
    /// softmaxes after, so decode of few sequences still uses every thread.
    public func attention(query: Tensor, cache: LayerKVCache, batch: AttentionBatch, scale: Float,
                          slidingWindow: Int?, out: Tensor) {
        precondition(query.shape.rank == 3 && out.shape == query.shape, "attention: query \(query.shape), out \(out.shape)")
        let heads = query.shape[1], dim = query.shape[2]
        let kvHeads = cache.key.shape[2], blockSize = cache.key.shape[1]
        precondition(cache.key.shape[3] == dim && heads % kvHeads == 0 && blockSize == batch.blockSize,
                     "attention: query \(query.shape) against cache \(cache.key.shape) (block size \(batch.blockSize))")
        let group = heads / kvHeads, chunk = Self.attentionQueryChunk
        let sequences = batch.sequences
        let singles = sequences.reduce(0) { $0 + ($1.queryCount == 1 ? 1 : 0) }
        let wantedSplits = max(1, pool.threadCount * 4 / max(1, singles * kvHeads))

        var plans: [AttentionPlan] = []
        swap(&plans, &attentionPlans)   // reuse the buffer without a copy-on-write copy
        plans.removeAll(keepingCapacity: true)
        var tasks = 0, partialFloats = 0, scratchFloats = 0
        let partialStride = group * (dim + 2)   // out [G, D], max [G], sum [G]
        for sequence in sequences {
            precondition(sequence.blockTable.count * blockSize >= sequence.contextLength,
                         "attention: block table of \(sequence.blockTable.count) blocks for \(sequence.contextLength) tokens")
            let chunks = (sequence.queryCount + chunk - 1) / chunk
            let keys = slidingWindow.map { min($0, sequence.contextLength) } ?? sequence.contextLength
            let splits = sequence.queryCount == 1 ? max(1, min(wantedSplits, keys / Self.attentionMinSplitKeys)) : 1
            plans.append(AttentionPlan(firstTask: tasks, chunks: chunks, splits: splits, partialOffset: partialFloats))
            tasks += chunks * kvHeads * splits
            if splits > 1 { partialFloats += kvHeads * splits * partialStride }
            scratchFloats = max(scratchFloats, 2 * group + group * ((keys + splits - 1) / splits))
        }
        plans.append(AttentionPlan(firstTask: tasks, chunks: 0, splits: 0, partialOffset: partialFloats))
        defer { attentionPlans = plans }
        reserveThreadScratch(floats: scratchFloats)
        let partials = attentionPartials.reserve(partialFloats)
        let qp = query.floats, op = out.floats, kc = cache.key.floats, vc = cache.value.floats
        let slotStride = Int64(kvHeads * dim)

        pool.parallelFor(tasks) { task, thread in
            var s = 0
            while plans[s + 1].firstTask <= task { s += 1 }
            let plan = plans[s], sequence = sequences[s]
            var local = task - plan.firstTask
            let split = local % plan.splits; local /= plan.splits
            let kvHead = local % kvHeads, first = local / kvHeads * chunk
            let headOffset = Int64(kvHead * dim)
            sequence.blockTable.withUnsafeBufferPointer { table in
                for i in first..<min(sequence.queryCount, first + chunk) {
                    let row = sequence.queryStart + i, position = sequence.firstPosition + i
                    let start = slidingWindow.map { max(0, position - $0 + 1) } ?? 0
                    let offset = (row * heads + kvHead * group) * dim
                    // Thread scratch: softmax statistics [2G], then scores [G, keys].
                    let scratch = self.scratch(thread: thread)
                    if plan.splits == 1 {
                        self.kernels.attention(qp + offset, Int64(group), kc, vc, table.baseAddress, Int64(blockSize), slotStride,
                                               headOffset, Int64(start), Int64(position + 1), Int64(dim), scale,
                                               scratch + 2 * group, op + offset, scratch, scratch + group, 1)
                    } else {
                        let keys = position + 1 - start, per = (keys + plan.splits - 1) / plan.splits
                        let k0 = start + split * per, k1 = min(position + 1, k0 + per)
                        let base = partials + plan.partialOffset + (kvHead * plan.splits + split) * partialStride
                        if k0 >= k1 {
                            base[group * dim] = -.infinity   // an empty split contributes nothing
                            (base + group * dim + group).update(repeating: 0, count: group)
                            continue
                        }
                        self.kernels.attention(qp + offset, Int64(group), kc, vc, table.baseAddress, Int64(blockSize), slotStride,
                                               headOffset, Int64(k0), Int64(k1), Int64(dim), scale, scratch + 2 * group,
                                               base, base + group * dim, base + group * dim + group, 0)
                    }
                }
            }
        }

        // Merge the splits of each split sequence: out = Σ e^(m_i - m) o_i / Σ e^(m_i - m) l_i.
        for (s, sequence) in sequences.enumerated() where plans[s].splits > 1 {
            let plan = plans[s], offset = sequence.queryStart * heads * dim
            for kvHead in 0..<kvHeads {
                for g in 0..<group {
                    func part(_ split: Int) -> UnsafeMutablePointer<Float> {
                        partials + plan.partialOffset + (kvHead * plan.splits + split) * partialStride
                    }
                    var m = -Float.infinity, total: Float = 0
                    for split in 0..<plan.splits { m = max(m, part(split)[group * dim + g]) }
                    for split in 0..<plan.splits where part(split)[group * dim + g] > -.infinity {
                        total += part(split)[group * dim + group + g] * expf(part(split)[group * dim + g] - m)
                    }
                    let destination = op + offset + (kvHead * group + g) * dim
                    destination.update(repeating: 0, count: dim)
                    for split in 0..<plan.splits where part(split)[group * dim + g] > -.infinity {
                        kernels.axpy(expf(part(split)[group * dim + g] - m) / total, part(split) + g * dim, destination, Int64(dim))
                    }
                }
            }
        }
    }

    /// Keys below which a split is not worth its merge.
    static let attentionMinSplitKeys = 256
}

/// Where one sequence's attention tasks start and how they divide.
struct AttentionPlan {
    var firstTask: Int
    var chunks: Int
    var splits: Int
    var partialOffset: Int
}
