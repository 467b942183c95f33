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

    init(tokens: [String], scores: [Float], unknownID: Int32?) {
        self.tokens = tokens
        self.scores = scores
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where vocab[token] == nil { vocab[token] = Int32(id) }
        self.vocab = vocab
        self.unknownID = unknownID
        byteTokens = (0..<256).map { vocab[byteTokenName(UInt8($0))] }
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
        // Candidate pairs: the highest score first, then the leftmost.
        var heap: [(score: Float, left: Int, right: Int, size: Int)] = []
        func piece(_ start: Int, _ length: Int) -> String { String(decoding: bytes[start..<(start + length)], as: UTF8.self) }
        func better(_ a: (score: Float, left: Int, right: Int, size: Int), _ b: (score: Float, left: Int, right: Int, size: Int)) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
        func push(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let text = piece(symbols[left].start, symbols[left].length + symbols[right].length)
            guard let id = vocab[text] else { return }
            heap.append((scores[Int(id)], left, right, text.utf8.count))
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                if !better(heap[child], heap[parent]) { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }
        func pop() -> (score: Float, left: Int, right: Int, size: Int)? {
            guard let top = heap.first else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var parent = 0
                while true {
                    let l = 2 * parent + 1, r = l + 1
                    var best = parent
                    if l < heap.count && better(heap[l], heap[best]) { best = l }
                    if r < heap.count && better(heap[r], heap[best]) { best = r }
                    if best == parent { break }
                    heap.swapAt(parent, best)
                    parent = best
                }
            }
            return top
        }
        for i in 1..<symbols.count { push(i - 1, i) }
        while let bigram = pop() {
            let left = bigram.left, right = bigram.right
            // Skip pairs made stale by an earlier merge.
            guard symbols[left].length > 0, symbols[right].length > 0,
                  symbols[left].length + symbols[right].length == bigram.size else { continue }
            symbols[left].length += symbols[right].length
            symbols[right].length = 0
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].previous = left }
            push(symbols[left].previous, left)
            push(left, symbols[left].next)
        }
        var i = 0
        while i != -1 {
            resegment(piece(symbols[i].start, symbols[i].length), &output)
            i = symbols[i].next
        }
    }

    /// A final piece: merged pieces are tokens by construction; a single character that is not
    /// one falls back to its bytes (or the unknown token).
    private func resegment(_ text: String, _ output: inout [Int32]) {
        if let id = vocab[text] {
            output.append(id)
            return
        }
        for byte in text.utf8 {
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
