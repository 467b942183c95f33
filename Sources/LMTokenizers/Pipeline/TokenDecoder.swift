/// Turns token strings back into text (Hugging Face `decoders`). Each step maps the list of
/// token strings; the final text is their concatenation.
indirect enum TokenDecoder: Sendable {
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case replace(pattern: String, content: String)
    case wordPiece(prefix: String, cleanup: Bool)
    case sequence([TokenDecoder])

    func apply(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { ByteLevel.decodeBytes(token, into: &bytes) }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .metaspace(replacement, scheme):
            // As Hugging Face does: every replacement character of the first token is dropped
            // (unless nothing was prepended), the others become spaces.
            return tokens.enumerated().map { index, token in
                let dropFirst = index == 0 && scheme != .never
                return String(String.UnicodeScalarView(token.unicodeScalars.compactMap { scalar -> Unicode.Scalar? in
                    scalar == replacement ? (dropFirst ? nil : " ") : scalar
                }))
            }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(validating: pending, as: UTF8.self) {
                    out.append(text)
                } else {
                    out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = byteOfToken(token) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(token)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { token in
                var scalars = Substring(token).unicodeScalars
                var removed = 0
                while removed < start, scalars.first == content { scalars.removeFirst(); removed += 1 }
                removed = 0
                while removed < stop, scalars.last == content { scalars.removeLast(); removed += 1 }
                return String(scalars)
            }
        case let .replace(pattern, content):
            return tokens.map { $0.replacing(pattern, with: content) }
        case let .wordPiece(prefix, cleanup):
            return tokens.enumerated().map { index, token in
                var text = token
                if index > 0 { text = text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : " " + text }
                if cleanup {
                    for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                                       (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
                        text = text.replacing(from, with: to)
                    }
                }
                return text
            }
        case let .sequence(steps):
            return steps.reduce(tokens) { $1.apply($0) }
        }
    }
}
