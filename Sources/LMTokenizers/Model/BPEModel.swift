import Synchronization

/// Byte-pair encoding as Hugging Face tokenizers runs it (`models/bpe`): a word starts as its
/// characters (or, with `byteFallback`, `<0xXX>` tokens for characters not in the vocabulary) and
/// the adjacent pair with the lowest merge rank is merged until none applies; ties go to the
/// leftmost pair. Supports `ignore_merges`, `continuing_subword_prefix`, `end_of_word_suffix`,
/// an unknown token (optionally fused) and a cache of encoded words, shared by every thread
/// that encodes (the server tokenizes requests concurrently), so it sits behind a lock.
final class BPEModel: @unchecked Sendable {
    let vocab: [String: Int32]
    let tokens: [String]                    // id -> token
    /// (left id << 32 | right id) -> (rank, merged id)
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    let unknownID: Int32?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let continuingSubwordPrefix: String
    let endOfWordSuffix: String
    private let cache = Mutex<[String: [Int32]]>([:])
    private static let cacheLimit = 50_000
    /// Longer words (unsplit SentencePiece text) are not cached.
    private static let cacheableLength = 128
    private let byteTokens: [Int32?]        // <0xXX> ids for byte fallback

    init(vocab: [String: Int32], merges: [(String, String)], unknown: String?, fuseUnknown: Bool,
         byteFallback: Bool, ignoreMerges: Bool, continuingSubwordPrefix: String?, endOfWordSuffix: String?,
         file: String) throws(TokenizerError) {
        self.vocab = vocab
        var tokens = [String](repeating: "", count: (vocab.values.max().map { Int($0) } ?? -1) + 1)
        for (token, id) in vocab where id >= 0 { tokens[Int(id)] = token }
        self.tokens = tokens
        let prefix = continuingSubwordPrefix ?? ""
        var table: [UInt64: (rank: Int32, id: Int32)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let a = vocab[left], let b = vocab[right] else {
                throw .invalid(file: file, key: "model.merges[\(rank)]", reason: "merges \"\(left)\" and \"\(right)\", which are not both in the vocabulary")
            }
            let mergedText = left + (prefix.isEmpty || !right.hasPrefix(prefix) ? right : String(right.dropFirst(prefix.count)))
            guard let merged = vocab[mergedText] else {
                throw .invalid(file: file, key: "model.merges[\(rank)]", reason: "produces \"\(mergedText)\", which is not in the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
            if table[key] == nil { table[key] = (Int32(rank), merged) }
        }
        self.merges = table
        if let unknown {
            guard let id = vocab[unknown] else { throw .missingToken(file: file, token: unknown) }
            unknownID = id
        } else {
            unknownID = nil
        }
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.continuingSubwordPrefix = prefix
        self.endOfWordSuffix = endOfWordSuffix ?? ""
        byteTokens = (0..<256).map { vocab[byteTokenName(UInt8($0))] }
    }

    /// The ids of one pre-tokenized word.
    func encode(_ word: String, into output: inout [Int32]) {
        if let cached = cache.withLock({ $0[word] }) {
            output.append(contentsOf: cached)
            return
        }
        guard word.utf8.count <= Self.cacheableLength else {
            encodeUncached(word, into: &output)
            return
        }
        var ids: [Int32] = []
        encodeUncached(word, into: &ids)
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[word] = ids
        }
        output.append(contentsOf: ids)
    }

    private func encodeUncached(_ word: String, into output: inout [Int32]) {
        if ignoreMerges, let id = vocab[word] {
            output.append(id)
            return
        }
        // Initial symbols: one per character (Unicode scalar sequence of a grapheme is split per
        // scalar, as the Rust implementation iterates `chars()`).
        var symbols: [Int32] = []
        let scalars = Array(word.unicodeScalars)
        symbols.reserveCapacity(scalars.count)
        var lastWasUnknown = false
        for (index, scalar) in scalars.enumerated() {
            var text = String(scalar)
            if index > 0 && !continuingSubwordPrefix.isEmpty { text = continuingSubwordPrefix + text }
            if index == scalars.count - 1 && !endOfWordSuffix.isEmpty { text += endOfWordSuffix }
            if let id = vocab[text] {
                symbols.append(id)
                lastWasUnknown = false
            } else if byteFallback, case let bytes = Array(String(scalar).utf8), bytes.allSatisfy({ byteTokens[Int($0)] != nil }) {
                for byte in bytes { symbols.append(byteTokens[Int(byte)]!) }
                lastWasUnknown = false
            } else if let unknownID {
                if !(fuseUnknown && lastWasUnknown) { symbols.append(unknownID) }
                lastWasUnknown = true
            }
        }
        merge(&symbols)
        output.append(contentsOf: symbols)
    }

    /// Repeatedly merges the lowest-ranked adjacent pair, leftmost on ties, with a heap of
    /// candidate pairs over a linked list of symbols: O(n log n), so unsplit text (SentencePiece
    /// models have no pre-tokenizer) stays fast.
    private func merge(_ symbols: inout [Int32]) {
        let n = symbols.count
        guard n > 1 else { return }
        var next = Array(1...n), previous = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        @inline(__always) func pairRank(_ i: Int) -> (rank: Int32, id: Int32)? {
            let j = next[i]
            guard j < n else { return nil }
            return merges[UInt64(UInt32(bitPattern: symbols[i])) << 32 | UInt64(UInt32(bitPattern: symbols[j]))]
        }
        for i in 0..<(n - 1) {
            if let merge = pairRank(i) { heap.push(UInt64(UInt32(merge.rank)) << 32 | UInt64(i)) }
        }
        while let top = heap.pop() {
            let i = Int(top & 0xFFFF_FFFF), rank = Int32(top >> 32)
            guard alive[i], let merge = pairRank(i), merge.rank == rank else { continue }   // stale
            let j = next[i]
            symbols[i] = merge.id
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { previous[next[j]] = i }
            if previous[i] >= 0, let left = pairRank(previous[i]) {
                heap.push(UInt64(UInt32(left.rank)) << 32 | UInt64(previous[i]))
            }
            if let right = pairRank(i) { heap.push(UInt64(UInt32(right.rank)) << 32 | UInt64(i)) }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i < n {
            out.append(symbols[i])
            i = next[i]
        }
        symbols = out
    }

    func id(of token: String) -> Int32? { vocab[token] }

    func token(of id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }
}
