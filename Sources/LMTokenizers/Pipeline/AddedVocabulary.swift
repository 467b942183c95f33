/// A token matched in the text before the model runs (Hugging Face `AddedToken`).
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int32
    public var special: Bool
    /// Also swallow whitespace on the left / right of the match.
    public var lstrip = false
    public var rstrip = false
    /// Match only as a whole word.
    public var singleWord = false
    /// Match in the normalized text rather than the raw input.
    public var normalized = false

    public init(content: String, id: Int32, special: Bool, lstrip: Bool = false, rstrip: Bool = false,
                singleWord: Bool = false, normalized: Bool = false) {
        self.content = content
        self.id = id
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
        self.normalized = normalized
    }
}

/// Finds added tokens in text: leftmost match first, the longest at a position.
struct AddedVocabulary: Sendable {
    /// A piece of input: text for the model, or an added token.
    enum Segment: Equatable {
        case text(String)
        case token(Int32)
    }

    let tokens: [AddedToken]
    private let byFirstScalar: [UInt32: [(scalars: [Unicode.Scalar], token: AddedToken)]]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        var index: [UInt32: [(scalars: [Unicode.Scalar], token: AddedToken)]] = [:]
        for token in tokens where !token.content.isEmpty {
            let scalars = Array(token.content.unicodeScalars)
            index[scalars[0].value, default: []].append((scalars, token))
        }
        for key in index.keys { index[key]!.sort { $0.scalars.count > $1.scalars.count } }
        byFirstScalar = index
    }

    var isEmpty: Bool { byFirstScalar.isEmpty }

    /// Splits `text` around the added tokens whose `normalized` flag equals `normalized`.
    func split(_ text: String, normalized: Bool) -> [Segment] {
        guard !byFirstScalar.isEmpty else { return [.text(text)] }
        let s = Array(text.unicodeScalars)
        var segments: [Segment] = []
        var textStart = 0, i = 0
        while i < s.count {
            guard let candidates = byFirstScalar[s[i].value],
                  let (length, token) = candidates.lazy.compactMap({ candidate -> (Int, AddedToken)? in
                      guard candidate.token.normalized == normalized, i + candidate.scalars.count <= s.count,
                            s[i..<(i + candidate.scalars.count)].elementsEqual(candidate.scalars) else { return nil }
                      if candidate.token.singleWord {
                          let before = i > 0 ? s[i - 1] : nil, after = i + candidate.scalars.count < s.count ? s[i + candidate.scalars.count] : nil
                          if let before, PreTokenizer.isWordCharacter(before) { return nil }
                          if let after, PreTokenizer.isWordCharacter(after) { return nil }
                      }
                      return (candidate.scalars.count, candidate.token)
                  }).first
            else {
                i += 1
                continue
            }
            var start = i, end = i + length
            if token.lstrip { while start > textStart && s[start - 1].properties.isWhitespace { start -= 1 } }
            if token.rstrip { while end < s.count && s[end].properties.isWhitespace { end += 1 } }
            if start > textStart { segments.append(.text(String(String.UnicodeScalarView(s[textStart..<start])))) }
            segments.append(.token(token.id))
            textStart = end
            i = end
        }
        if textStart < s.count { segments.append(.text(String(String.UnicodeScalarView(s[textStart...])))) }
        return segments
    }
}
