/// SentencePiece-style BPE driven by token scores, as llama.cpp tokenizes `llama`-type GGUF
/// vocabularies (`llm_tokenizer_spm`): a text starts as its UTF-8 characters, and the adjacent
/// pair whose concatenation is a token with the highest score is merged (leftmost on ties)
/// until none is left; characters that are not tokens become byte tokens (`<0xXX>`) or the
/// unknown token.
/// (Merging only pairs whose concatenation is a token means every merged piece is one.)
final class ScoredPieceModel: @unchecked Sendable {
    let vocab: [String: Int32]
    let tokens: [String]
    let scores: [Float]
    let unknownID: Int32?
    private let byteTokens: [Int32?]
    /// Token lookup by the bytes of a piece, without building a String per candidate pair:
    /// FNV-1a hash -> ids with that hash (verified byte for byte).
    private let byHash: [UInt64: [Int32]]
    private let tokenBytes: [[UInt8]]

    init(tokens: [String], scores: [Float], unknownID: Int32?) {
        self.tokens = tokens
        self.scores = scores
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where vocab[token] == nil { vocab[token] = Int32(id) }
        self.vocab = vocab
        self.unknownID = unknownID
        byteTokens = (0..<256).map { vocab[byteTokenName(UInt8($0))] }
        tokenBytes = tokens.map { Array($0.utf8) }
        var byHash: [UInt64: [Int32]] = [:]
        for (token, id) in vocab { byHash[Self.hash(Array(token.utf8)[...]), default: []].append(id) }
        self.byHash = byHash
    }

    private static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100000001b3 }
        return h
    }

    /// The id of the token spelled by `bytes`, if any.
    private func lookup(_ bytes: ArraySlice<UInt8>) -> Int32? {
        guard let candidates = byHash[Self.hash(bytes)] else { return nil }
        return candidates.first { tokenBytes[Int($0)].elementsEqual(bytes) }
    }

    private struct Symbol {
        var start: Int       // byte offset in the text
        var length: Int      // bytes; 0 once merged into its left neighbour
        var previous: Int
        var next: Int
    }

    func encode(_ text: String, into output: inout [Int32]) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }
        var symbols: [Symbol] = []
        var offset = 0
        while offset < bytes.count {
            let length = min(bytes.count - offset, utf8Length(bytes[offset]))
            symbols.append(Symbol(start: offset, length: length, previous: symbols.count - 1,
                                  next: offset + length == bytes.count ? -1 : symbols.count + 1))
            offset += length
        }
        // Candidate pairs in a min-heap of packed keys: the highest score first (order-preserving
        // float bits, inverted), then the leftmost symbol. A popped pair is re-checked against
        // the current symbols, so entries made stale by earlier merges are skipped.
        func piece(_ start: Int, _ length: Int) -> ArraySlice<UInt8> { bytes[start..<(start + length)] }
        func pairScore(_ left: Int) -> Float? {
            let right = symbols[left].next
            guard right >= 0, let id = lookup(piece(symbols[left].start, symbols[left].length + symbols[right].length)) else { return nil }
            return scores[Int(id)]
        }
        func key(_ score: Float, _ left: Int) -> UInt64 {
            let bits = score.bitPattern
            let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000   // ascending with the float
            return UInt64(~ordered) << 32 | UInt64(left)
        }
        var heap = MinHeap()
        for left in 0..<(symbols.count - 1) {
            if let score = pairScore(left) { heap.push(key(score, left)) }
        }
        while let top = heap.pop() {
            let left = Int(top & 0xFFFF_FFFF)
            guard symbols[left].length > 0, let score = pairScore(left), key(score, left) == top else { continue }
            let right = symbols[left].next
            symbols[left].length += symbols[right].length
            symbols[right].length = 0
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].previous = left }
            let previous = symbols[left].previous
            if previous >= 0, let score = pairScore(previous) { heap.push(key(score, previous)) }
            if let score = pairScore(left) { heap.push(key(score, left)) }
        }
        var i = 0
        while i != -1 {
            resegment(piece(symbols[i].start, symbols[i].length), &output)
            i = symbols[i].next
        }
    }

    /// A final piece: merged pieces are tokens by construction; a single character that is not
    /// one falls back to its bytes (or the unknown token).
    private func resegment(_ text: ArraySlice<UInt8>, _ output: inout [Int32]) {
        if let id = lookup(text) {
            output.append(id)
            return
        }
        for byte in text {
            if let id = byteTokens[Int(byte)] {
                output.append(id)
            } else if let unknownID {
                output.append(unknownID)
            }
        }
    }
}

/// Bytes of the UTF-8 sequence a lead byte starts (1 for stray continuation bytes).
func utf8Length(_ lead: UInt8) -> Int {
    switch lead {
    case 0xF0...0xF7: 4
    case 0xE0...0xEF: 3
    case 0xC0...0xDF: 2
    default: 1
    }
}
