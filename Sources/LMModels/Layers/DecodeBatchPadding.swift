import LMTensor

/// Decode batches padded to a few sizes, as vLLM pads its CUDA graph batches: a backend that
/// records steps (CUDA graphs) records one per (size, table stride), so without padding every
/// new number of running requests (the tail of a batch as requests finish, a server's changing
/// load) pays an eager step and a recording; with it, 1, 2, 4 and then multiples of 8 up to 512
/// cover every batch. A padding row is a one-token sequence at position 0 whose key and value go
/// to the cache's padding block; its logits are computed and dropped. Each row of every op is
/// computed independently of the others, so the real rows' results do not change.
extension ForwardBatch {
    /// The size a decode batch of `tokens` rows is padded to; nil past the largest.
    static func decodeBucket(_ tokens: Int) -> Int? {
        switch tokens {
        case ...0: nil
        case 1, 2: tokens
        case 3, 4: 4
        case ...512: (tokens + 7) / 8 * 8
        default: nil
        }
    }

    /// This batch with padding rows up to its bucket, when every sequence decodes one token;
    /// otherwise unchanged. The padding rows' logits follow the real ones'.
    func paddedForDecode(paddingBlock: Int32) -> ForwardBatch {
        let count = tokens.count
        guard attention.sequences.allSatisfy({ $0.queryCount == 1 }), let bucket = Self.decodeBucket(count), bucket > count else {
            return self
        }
        var padded = self
        let slot = paddingBlock * Int32(attention.blockSize)
        for row in count..<bucket {
            padded.tokens.append(0)
            padded.positions.append(0)
            padded.attention.slotMapping.append(slot)
            padded.attention.sequences.append(SequenceSpan(queryStart: row, queryCount: 1, contextLength: 1, blockTable: [paddingBlock]))
            padded.logitRows.append(Int32(row))
        }
        return padded
    }
}
