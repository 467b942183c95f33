#if canImport(Foundation)
import Foundation
#endif

/// Text normalization before pre-tokenization (Hugging Face `normalizers`).
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case strip(left: Bool, right: Bool)
    /// Prepends the text, unless the input is empty.
    case prepend(String)
    case replace(pattern: SplitPattern, content: String)
    case sequence([Normalizer])

    func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case let .strip(left, right):
            var scalars = Substring(text).unicodeScalars
            if left { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
            return String(scalars)
        case let .prepend(prefix):
            return text.isEmpty ? text : prefix + text
        case let .replace(pattern, content):
            if case let .literal(needle) = pattern { return text.replacing(needle, with: content) }
            let scalars = Array(text.unicodeScalars)
            var out = String.UnicodeScalarView()
            var position = 0
            for match in pattern.matches(in: scalars) {
                out.append(contentsOf: scalars[position..<match.lowerBound])
                out.append(contentsOf: content.unicodeScalars)
                position = match.upperBound
            }
            out.append(contentsOf: scalars[position...])
            return String(out)
        case let .sequence(normalizers):
            return normalizers.reduce(text) { $1.apply($0) }
        }
    }
}
