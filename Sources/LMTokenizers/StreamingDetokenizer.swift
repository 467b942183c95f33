/// Turns a stream of generated ids into text as soon as the text is final: it never emits half
/// a UTF-8 sequence or half a byte-fallback run (a decode ending in U+FFFD waits for the next
/// token), keeps SentencePiece spaces right by decoding each new token together with a few
/// before it, and holds back text while it might still become a stop string.
/// Stop strings are excluded from the output, as the OpenAI API does.
public struct StreamingDetokenizer {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    public let stopStrings: [String]
    private var ids: [Int32] = []
    /// ids[prefixOffset..<readOffset] decode to text already accounted for.
    private var prefixOffset = 0
    private var readOffset = 0
    /// Final text not yet returned because a stop string might start in it.
    private var held = ""
    public private(set) var stopped = false
    /// Tokens kept before the unread ones so decoders see their context.
    private static let contextTokens = 6

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true, stopStrings: [String] = []) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
    }

    /// Adds one id; returns the text that became final (possibly empty). After a stop string
    /// matched, `stopped` is true and nothing more is returned.
    public mutating func append(_ id: Int32) -> String {
        guard !stopped else { return "" }
        ids.append(id)
        let before = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let after = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        // Incomplete UTF-8 (or byte run) at the end, or nothing new yet: wait. (Compared as
        // scalars: a combining mark may join the previous character into a new grapheme.)
        guard let new = Self.scalarSuffix(of: after, after: before), !new.isEmpty,
              after.unicodeScalars.last != "\u{FFFD}" else { return "" }
        readOffset = ids.count
        prefixOffset = max(0, readOffset - Self.contextTokens)
        return release(new)
    }

    /// Flushes what is left at the end of generation (an unfinished sequence decodes to U+FFFD).
    public mutating func finish() -> String {
        guard !stopped else { return "" }
        let before = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let after = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        readOffset = ids.count
        let rest = Self.scalarSuffix(of: after, after: before) ?? ""
        let text = held + rest
        held = ""
        if let range = firstStop(in: text) {
            stopped = true
            return String(text[..<range.lowerBound])
        }
        return text
    }

    /// Appends `new` to the held text and returns what can no longer be part of a stop string.
    private mutating func release(_ new: String) -> String {
        guard !stopStrings.isEmpty else { return new }
        held += new
        if let range = firstStop(in: held) {
            stopped = true
            let out = String(held[..<range.lowerBound])
            held = ""
            return out
        }
        // Keep the longest suffix that is a proper prefix of some stop string.
        var keep = 0
        for stop in stopStrings {
            for length in stride(from: min(stop.count - 1, held.count), to: 0, by: -1) where held.hasSuffix(stop.prefix(length)) {
                keep = max(keep, length)
                break
            }
        }
        let out = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return out
    }

    private func firstStop(in text: String) -> Range<String.Index>? {
        stopStrings.compactMap { text.firstRange(of: $0) }.min { $0.lowerBound < $1.lowerBound }
    }

    /// `text` minus the scalars of `prefix`, or nil when `text` does not start with them.
    private static func scalarSuffix(of text: String, after prefix: String) -> String? {
        var textScalars = text.unicodeScalars.makeIterator()
        for scalar in prefix.unicodeScalars {
            guard textScalars.next() == scalar else { return nil }
        }
        var rest = String.UnicodeScalarView()
        while let scalar = textScalars.next() { rest.append(scalar) }
        return String(rest)
    }
}
