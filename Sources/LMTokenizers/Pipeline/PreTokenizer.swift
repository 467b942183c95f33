/// How matches of a split pattern become pieces (Hugging Face `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// Where Metaspace adds its replacement character at the start.
enum PrependScheme: String, Sendable {
    case always, first, never
}

/// Splits normalized text into the words the model encodes (Hugging Face `pre_tokenizers`).
indirect enum PreTokenizer: Sendable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(pattern: SplitPattern, behavior: SplitBehavior, invert: Bool)
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
    case digits(individual: Bool)
    case punctuation(behavior: SplitBehavior)
    case whitespace
    case whitespaceSplit
    case sequence([PreTokenizer])

    /// Pre-tokenizes `pieces`; `atTextStart` says whether the first piece begins the input
    /// (Metaspace's `first` scheme).
    func apply(_ pieces: [String], atTextStart: Bool) -> [String] {
        switch self {
        case let .sequence(steps):
            return steps.reduce(pieces) { $1.apply($0, atTextStart: atTextStart) }
        default:
            var out: [String] = []
            out.reserveCapacity(pieces.count * 2)
            for (index, piece) in pieces.enumerated() {
                apply(piece, first: atTextStart && index == 0, into: &out)
            }
            return out
        }
    }

    private func apply(_ piece: String, first: Bool, into out: inout [String]) {
        switch self {
        case let .byteLevel(addPrefixSpace, useRegex):
            let text = addPrefixSpace && !piece.hasPrefix(" ") ? " " + piece : piece
            if useRegex {
                for part in Self.split(text, pattern: .gpt2, behavior: .isolated, invert: false) { out.append(ByteLevel.encode(part)) }
            } else {
                out.append(ByteLevel.encode(text))
            }
        case let .split(pattern, behavior, invert):
            out.append(contentsOf: Self.split(piece, pattern: pattern, behavior: behavior, invert: invert))
        case let .metaspace(replacement, scheme, split):
            var text = String.UnicodeScalarView()
            let scalars = piece.unicodeScalars
            // Prepend unless the text (spaces already replaced) starts with the replacement.
            let startsReplaced = scalars.first == " " || scalars.first == replacement
            if (scheme == .always || (scheme == .first && first)) && !startsReplaced { text.append(replacement) }
            for scalar in scalars { text.append(scalar == " " ? replacement : scalar) }
            let replaced = String(text)
            if split {
                out.append(contentsOf: Self.split(replaced, pattern: .literal(String(replacement)), behavior: .mergedWithNext, invert: false))
            } else {
                out.append(replaced)
            }
        case let .digits(individual):
            out.append(contentsOf: Self.split(piece, pattern: .digits(individual: true), behavior: individual ? .isolated : .contiguous, invert: false))
        case let .punctuation(behavior):
            out.append(contentsOf: Self.splitByClass(piece, behavior: behavior) { Self.isPunctuation($0) })
        case .whitespace:
            // \w+|[^\w\s]+ kept, everything else removed.
            let scalars = Array(piece.unicodeScalars)
            var i = 0
            while i < scalars.count {
                let word = Self.isWordCharacter(scalars[i]), space = scalars[i].properties.isWhitespace
                var j = i + 1
                while j < scalars.count && Self.isWordCharacter(scalars[j]) == word && scalars[j].properties.isWhitespace == space { j += 1 }
                if !space { out.append(String(String.UnicodeScalarView(scalars[i..<j]))) }
                i = j
            }
        case .whitespaceSplit:
            for part in piece.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }) { out.append(String(part)) }
        case .sequence:
            out.append(contentsOf: apply([piece], atTextStart: first))
        }
    }

    // MARK: Splitting

    /// The pieces `pattern` cuts `text` into under `behavior` (`NormalizedString::split`).
    static func split(_ text: String, pattern: SplitPattern, behavior: SplitBehavior, invert: Bool) -> [String] {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return [] }
        // (range, isMatch) covering the text.
        var segments: [(Range<Int>, Bool)] = []
        var position = 0
        for match in pattern.matches(in: scalars) {
            if match.lowerBound > position { segments.append((position..<match.lowerBound, invert)) }
            segments.append((match, !invert))
            position = match.upperBound
        }
        if position < scalars.count { segments.append((position..<scalars.count, invert)) }
        return apply(behavior, to: segments).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    private static func splitByClass(_ text: String, behavior: SplitBehavior, _ matches: (Unicode.Scalar) -> Bool) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let segments = scalars.indices.map { ($0..<($0 + 1), matches(scalars[$0])) }
        // Runs of non-matching characters are one piece.
        var merged: [(Range<Int>, Bool)] = []
        for segment in segments {
            if !segment.1, let last = merged.last, !last.1, last.0.upperBound == segment.0.lowerBound {
                merged[merged.count - 1].0 = last.0.lowerBound..<segment.0.upperBound
            } else {
                merged.append(segment)
            }
        }
        return apply(behavior, to: merged).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    private static func apply(_ behavior: SplitBehavior, to segments: [(Range<Int>, Bool)]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var previousMatch = false
        switch behavior {
        case .isolated:
            return segments.map(\.0)
        case .removed:
            return segments.filter { !$0.1 }.map(\.0)
        case .mergedWithPrevious:
            for (range, isMatch) in segments {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            for (range, isMatch) in segments.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = range.lowerBound..<last.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
            }
            out.reverse()
        case .contiguous:
            var first = true
            for (range, isMatch) in segments {
                if !first && isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    out.append(range)
                }
                previousMatch = isMatch
                first = false
            }
        }
        return out
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark,
             .connectorPunctuation: return true
        default: return false
        }
    }
}
