/// Turns decoded `tokenizer.json` components into the pipeline, naming any unsupported type.
struct TokenizerBuilder {
    let file: String
    typealias Component = TokenizerJSON.Component

    func pattern(_ component: Component?, key: String) throws(TokenizerError) -> SplitPattern {
        if let literal = component?["String"]?.string { return .literal(literal) }
        if let regex = component?["Regex"]?.string { return try SplitPattern.compile(regex: regex) }
        throw .invalid(file: file, key: key, reason: "must be {\"String\": ...} or {\"Regex\": ...}")
    }

    func normalizer(_ c: Component) throws(TokenizerError) -> Normalizer {
        switch c.type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Strip": return .strip(left: c["strip_left"]?.bool ?? true, right: c["strip_right"]?.bool ?? true)
        case "Prepend": return .prepend(c["prepend"]?.string ?? "")
        case "Replace": return .replace(pattern: try pattern(c["pattern"], key: "normalizer.pattern"), content: c["content"]?.string ?? "")
        case "Sequence":
            var steps: [Normalizer] = []
            for step in c["normalizers"]?.array ?? [] { steps.append(try normalizer(step)) }
            return .sequence(steps)
        case let other: throw .unsupported(file: file, component: "normalizer", type: other)
        }
    }

    func behavior(_ c: Component?, key: String) throws(TokenizerError) -> SplitBehavior {
        guard let raw = c?.string else { return .isolated }
        guard let behavior = SplitBehavior(rawValue: raw) else { throw .invalid(file: file, key: key, reason: "\"\(raw)\" is not a split behavior") }
        return behavior
    }

    func preTokenizer(_ c: Component) throws(TokenizerError) -> PreTokenizer {
        switch c.type {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: c["add_prefix_space"]?.bool ?? true, useRegex: c["use_regex"]?.bool ?? true)
        case "Split":
            return .split(pattern: try pattern(c["pattern"], key: "pre_tokenizer.pattern"),
                          behavior: try behavior(c["behavior"], key: "pre_tokenizer.behavior"), invert: c["invert"]?.bool ?? false)
        case "Metaspace":
            return .metaspace(replacement: try replacement(c), prependScheme: try prependScheme(c), split: c["split"]?.bool ?? true)
        case "Digits": return .digits(individual: c["individual_digits"]?.bool ?? false)
        case "Punctuation": return .punctuation(behavior: try behavior(c["behavior"], key: "pre_tokenizer.behavior"))
        case "Whitespace": return .whitespace
        case "WhitespaceSplit": return .whitespaceSplit
        case "Sequence":
            var steps: [PreTokenizer] = []
            for step in c["pretokenizers"]?.array ?? [] { steps.append(try preTokenizer(step)) }
            return .sequence(steps)
        case let other: throw .unsupported(file: file, component: "pre_tokenizer", type: other)
        }
    }

    func replacement(_ c: Component) throws(TokenizerError) -> Unicode.Scalar {
        let text = c["replacement"]?.string ?? "\u{2581}"
        guard text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
            throw .invalid(file: file, key: "replacement", reason: "must be one character")
        }
        return scalar
    }

    func prependScheme(_ c: Component) throws(TokenizerError) -> PrependScheme {
        if let raw = c["prepend_scheme"]?.string {
            guard let scheme = PrependScheme(rawValue: raw) else { throw .invalid(file: file, key: "prepend_scheme", reason: "\"\(raw)\" is not always/first/never") }
            return scheme
        }
        return (c["add_prefix_space"]?.bool ?? true) ? .always : .never
    }

    func postProcessor(_ c: Component, vocabulary: (String) -> Int32?) throws(TokenizerError) -> PostProcessor {
        switch c.type {
        case "TemplateProcessing":
            var specialIDs: [String: [Int32]] = [:]
            if case let .object(specials)? = c["special_tokens"] {
                for (name, entry) in specials {
                    specialIDs[name] = (entry["ids"]?.array ?? []).compactMap { $0.int.map(Int32.init) }
                }
            }
            var pieces: [PostProcessor.Piece] = []
            for item in c["single"]?.array ?? [] {
                if let special = item["SpecialToken"]?["id"]?.string {
                    guard let ids = specialIDs[special] ?? vocabulary(special).map({ [$0] }) else {
                        throw .missingToken(file: file, token: special)
                    }
                    pieces.append(.special(ids))
                } else if item["Sequence"] != nil {
                    pieces.append(.sequence)
                } else {
                    throw .invalid(file: file, key: "post_processor.single", reason: "holds an item that is neither SpecialToken nor Sequence")
                }
            }
            return .template(pieces)
        case "ByteLevel": return .byteLevel
        case "BertProcessing", "RobertaProcessing":
            guard let cls = c["cls"]?.array?.last?.int, let sep = c["sep"]?.array?.last?.int else {
                throw .invalid(file: file, key: "post_processor", reason: "needs cls and sep")
            }
            return .template([.special([Int32(cls)]), .sequence, .special([Int32(sep)])])
        case "Sequence":
            var steps: [PostProcessor] = []
            for step in c["processors"]?.array ?? [] { steps.append(try postProcessor(step, vocabulary: vocabulary)) }
            return .sequence(steps)
        case let other: throw .unsupported(file: file, component: "post_processor", type: other)
        }
    }

    func decoder(_ c: Component) throws(TokenizerError) -> TokenDecoder {
        switch c.type {
        case "ByteLevel": return .byteLevel
        case "Metaspace": return .metaspace(replacement: try replacement(c), prependScheme: try prependScheme(c))
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            guard let content = c["content"]?.string?.unicodeScalars.first else {
                throw .invalid(file: file, key: "decoder.content", reason: "must be one character")
            }
            return .strip(content: content, start: c["start"]?.int ?? 0, stop: c["stop"]?.int ?? 0)
        case "Replace":
            guard let literal = c["pattern"]?["String"]?.string else {
                throw .unsupported(file: file, component: "decoder Replace pattern", type: "Regex")
            }
            return .replace(pattern: literal, content: c["content"]?.string ?? "")
        case "WordPiece": return .wordPiece(prefix: c["prefix"]?.string ?? "##", cleanup: c["cleanup"]?.bool ?? true)
        case "Sequence":
            var steps: [TokenDecoder] = []
            for step in c["decoders"]?.array ?? [] { steps.append(try decoder(step)) }
            return .sequence(steps)
        case let other: throw .unsupported(file: file, component: "decoder", type: other)
        }
    }
}
