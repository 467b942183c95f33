#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A pre-tokenizer pattern: the non-overlapping leftmost-first matches in a run of scalars, as
/// Oniguruma (Hugging Face tokenizers) and llama.cpp find them. The patterns every common model
/// uses (GPT-2, Llama 3, Qwen 2, single digits) have hand-written matchers; others fall back to
/// Swift's Regex engine over Unicode scalars (exact, slower).
enum SplitPattern: Sendable {
    case gpt2
    /// Llama 3 (`\p{N}{1,3}`) and Qwen 2 (`\p{N}`): the same pattern but for the digit run length.
    case llama3(maxDigits: Int)
    /// `\p{N}` (individual) or `\p{N}+`.
    case digits(individual: Bool)
    case literal(String)
    case regex(String, GeneralRegex)

    /// Picks a hand-written matcher when `pattern` is one of the known regexes.
    static func compile(regex pattern: String) throws(TokenizerError) -> SplitPattern {
        switch pattern {
        case #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#,
             #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#:
            return .gpt2
        case #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
             #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            return .llama3(maxDigits: 3)
        case #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
             #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            return .llama3(maxDigits: 1)
        case #"\p{N}"#: return .digits(individual: true)
        case #"\p{N}+"#: return .digits(individual: false)
        default: return .regex(pattern, try GeneralRegex(pattern))
        }
    }

    /// Matched ranges (indices into `s`), leftmost-first, non-overlapping, in order.
    func matches(in s: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        switch self {
        case .regex(_, let regex):
            return regex.matches(in: s)
        case .literal(let text):
            let needle = Array(text.unicodeScalars)
            guard !needle.isEmpty else { return [] }
            var i = 0
            while i + needle.count <= s.count {
                if s[i..<(i + needle.count)].elementsEqual(needle) {
                    result.append(i..<(i + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
            return result
        default:
            var i = 0
            while i < s.count {
                if let end = matchEnd(in: s, at: i), end > i {
                    result.append(i..<end)
                    i = end
                } else {
                    i += 1
                }
            }
            return result
        }
    }

    /// End of the match starting at `i`, or nil.
    @inline(__always)
    private func matchEnd(in s: [Unicode.Scalar], at i: Int) -> Int? {
        switch self {
        case .gpt2: return Self.gpt2(s, i)
        case let .llama3(maxDigits): return Self.llama3(s, i, maxDigits)
        case let .digits(individual):
            guard UnicodeClass.of(s[i]) == .number else { return nil }
            return individual ? i + 1 : run(s, from: i) { UnicodeClass.of($0) == .number }
        default: return nil
        }
    }

    // MARK: Hand-written matchers

    private static func cls(_ s: [Unicode.Scalar], _ i: Int) -> UnicodeClass? { i < s.count ? UnicodeClass.of(s[i]) : nil }

    private func run(_ s: [Unicode.Scalar], from i: Int, _ accept: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        while j < s.count && accept(s[j]) { j += 1 }
        return j
    }

    private static func runOf(_ c: UnicodeClass, _ s: [Unicode.Scalar], _ i: Int) -> Int {
        var j = i
        while j < s.count && UnicodeClass.of(s[j]) == c { j += 1 }
        return j
    }

    /// 's 't 're 've 'm 'll 'd (optionally any letter case).
    private static func contraction(_ s: [Unicode.Scalar], _ i: Int, caseInsensitive: Bool) -> Int? {
        guard s[i] == "'", i + 1 < s.count else { return nil }
        func lower(_ k: Int) -> Unicode.Scalar? {
            guard k < s.count else { return nil }
            let c = s[k]
            if caseInsensitive, c.value >= 65, c.value <= 90 { return Unicode.Scalar(c.value + 32) }
            return c
        }
        switch lower(i + 1) {
        case "s", "t", "m", "d": return i + 2
        case "r": return lower(i + 2) == "e" ? i + 3 : nil
        case "v": return lower(i + 2) == "e" ? i + 3 : nil
        case "l": return lower(i + 2) == "l" ? i + 3 : nil
        default: return nil
        }
    }

    /// `\s+(?!\S)|\s+` from a whitespace scalar at `i`: the whole run if it ends the text,
    /// else the run minus its last scalar (which then leads the next piece), at least one.
    private static func whitespaceRun(_ s: [Unicode.Scalar], _ i: Int) -> Int {
        let end = runOf(.whitespace, s, i)
        if end == s.count || end - i == 1 { return end }
        return end - 1
    }

    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    static func gpt2(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        if let end = contraction(s, i, caseInsensitive: false) { return end }
        var start = i
        if s[i] == " ", let next = cls(s, i + 1), next != .whitespace { start = i + 1 }
        switch UnicodeClass.of(s[start]) {
        case .letter: return runOf(.letter, s, start)
        case .number: return runOf(.number, s, start)
        case .other: return runOf(.other, s, start)
        case .whitespace: return whitespaceRun(s, i)
        }
    }

    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    static func llama3(_ s: [Unicode.Scalar], _ i: Int, _ maxDigits: Int) -> Int? {
        if let end = contraction(s, i, caseInsensitive: true) { return end }
        let c = UnicodeClass.of(s[i])
        let isNewline = s[i] == "\r" || s[i] == "\n"
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if c == .letter { return runOf(.letter, s, i) }
        if !isNewline && c != .number, cls(s, i + 1) == .letter { return runOf(.letter, s, i + 1) }
        // \p{N}{1,D}
        if c == .number {
            var j = i
            while j < s.count && j - i < maxDigits && UnicodeClass.of(s[j]) == .number { j += 1 }
            return j
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        var start = i
        if s[i] == " ", cls(s, i + 1) == .other { start = i + 1 }
        if UnicodeClass.of(s[start]) == .other {
            var j = runOf(.other, s, start)
            while j < s.count && (s[j] == "\r" || s[j] == "\n") { j += 1 }
            return j
        }
        // \s*[\r\n]+ : through the last newline of the whitespace run, if it has one.
        let end = runOf(.whitespace, s, i)
        var lastNewline = -1
        for k in i..<end where s[k] == "\r" || s[k] == "\n" { lastNewline = k }
        if lastNewline >= 0 { return lastNewline + 1 }
        return whitespaceRun(s, i)
    }
}

/// Any other pattern, through Swift's Regex engine with Unicode-scalar semantics.
struct GeneralRegex: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>

    init(_ pattern: String) throws(TokenizerError) {
        do {
            regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
        } catch {
            throw .invalid(file: "pattern", key: pattern, reason: "is not a regex this engine understands: \(error)")
        }
    }

    func matches(in s: [Unicode.Scalar]) -> [Range<Int>] {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: s)
        let string = String(text)
        var result: [Range<Int>] = []
        for match in string.matches(of: regex) where !match.range.isEmpty {
            let lower = string.unicodeScalars.distance(from: string.startIndex, to: match.range.lowerBound)
            let upper = string.unicodeScalars.distance(from: string.startIndex, to: match.range.upperBound)
            result.append(lower..<upper)
        }
        return result
    }
}
