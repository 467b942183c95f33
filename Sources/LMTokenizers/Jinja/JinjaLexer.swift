/// Splits a template into text and tags, applying whitespace control (`{%-`, `-%}`) and the
/// `trim_blocks` / `lstrip_blocks` settings transformers uses.
struct JinjaLexer {
    enum Chunk {
        case text(String, line: Int)
        case output([JinjaToken], line: Int)       // {{ ... }}
        case statement([JinjaToken], line: Int)    // {% ... %}

        var line: Int {
            switch self {
            case let .text(_, line), let .output(_, line), let .statement(_, line): line
            }
        }
    }

    static func chunks(_ source: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) throws(JinjaError) -> [Chunk] {
        let s = Array(source.unicodeScalars)
        var chunks: [Chunk] = []
        var i = 0, line = 1
        var text = String.UnicodeScalarView(), textLine = 1
        var stripNextLeadingWhitespace = false, trimNextNewline = false
        var textStartsLine = true   // the pending text begins at the start of a line

        func flushText(stripTrailing: Bool, lstripLine: Bool) {
            var scalars = Array(text)
            if stripTrailing {
                while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            } else if lstripLine {
                // Remove spaces and tabs back to the start of the line, if only they precede the tag.
                var k = scalars.count
                while k > 0 && (scalars[k - 1] == " " || scalars[k - 1] == "\t") { k -= 1 }
                if k == 0 ? textStartsLine : scalars[k - 1] == "\n" { scalars.removeSubrange(k...) }
            }
            if !scalars.isEmpty { chunks.append(.text(String(String.UnicodeScalarView(scalars)), line: textLine)) }
            text = String.UnicodeScalarView()
        }

        while i < s.count {
            if s[i] == "{", i + 1 < s.count, s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" {
                let kind = s[i + 1]
                let minus = i + 2 < s.count && s[i + 2] == "-"
                let plus = i + 2 < s.count && s[i + 2] == "+"
                let tagLine = line
                flushText(stripTrailing: minus, lstripLine: lstripBlocks && kind != "{" && !plus)
                var j = i + 2 + (minus || plus ? 1 : 0)
                let close: Unicode.Scalar = kind == "{" ? "}" : kind == "%" ? "%" : "#"
                var end = -1
                var quote: Unicode.Scalar? = nil
                while j + 1 < s.count {
                    if kind != "#" {
                        if let q = quote {
                            if s[j] == "\\" { j += 2; continue }
                            if s[j] == q { quote = nil }
                        } else if s[j] == "'" || s[j] == "\"" {
                            quote = s[j]
                        }
                    }
                    if quote == nil && s[j] == close && s[j + 1] == "}" { end = j; break }
                    if s[j] == "\n" { line += 1 }
                    j += 1
                }
                guard end >= 0 else { throw .syntax(line: tagLine, message: "unclosed tag") }
                var bodyEnd = end
                let trailingMinus = end > i + 2 && s[end - 1] == "-"
                if trailingMinus { bodyEnd -= 1 }
                let bodyStart = i + 2 + (minus || plus ? 1 : 0)
                let body = bodyStart <= bodyEnd ? String(String.UnicodeScalarView(s[bodyStart..<bodyEnd])) : ""
                switch kind {
                case "{": chunks.append(.output(try JinjaTokenizer.tokens(body, line: tagLine), line: tagLine))
                case "%":
                    let tokens = try JinjaTokenizer.tokens(body, line: tagLine)
                    // {% raw %} ... {% endraw %}: everything in between is text.
                    if case .name("raw")? = tokens.first?.kind {
                        let rest = String(String.UnicodeScalarView(s[(end + 2)...]))
                        guard let close = rest.firstRange(of: "endraw") else { throw .syntax(line: tagLine, message: "raw without endraw") }
                        let before = rest[..<close.lowerBound]
                        guard let open = before.lastIndex(of: "{") else { throw .syntax(line: tagLine, message: "malformed endraw") }
                        var raw = String(before[..<open])
                        if raw.hasSuffix("-") { raw.removeLast() }
                        chunks.append(.text(raw, line: tagLine))
                        let consumed = rest.unicodeScalars.distance(from: rest.startIndex, to: close.upperBound)
                        var k = end + 2 + consumed
                        while k + 1 < s.count && !(s[k] == "%" && s[k + 1] == "}") { k += 1 }
                        line += raw.filter { $0 == "\n" }.count
                        i = k + 2
                        textLine = line
                        continue
                    }
                    chunks.append(.statement(tokens, line: tagLine))
                default: break   // comment
                }
                i = end + 2
                stripNextLeadingWhitespace = trailingMinus
                defer { textStartsLine = i > 0 && s[i - 1] == "\n" }
                trimNextNewline = trimBlocks && kind != "{"
                textLine = line
                // Whitespace after the tag.
                if stripNextLeadingWhitespace {
                    while i < s.count && s[i].properties.isWhitespace {
                        if s[i] == "\n" { line += 1 }
                        i += 1
                    }
                    textLine = line
                } else if trimNextNewline {
                    if i < s.count && s[i] == "\n" { i += 1; line += 1; textLine = line }
                    else if i + 1 < s.count && s[i] == "\r" && s[i + 1] == "\n" { i += 2; line += 1; textLine = line }
                }
                continue
            }
            if text.isEmpty { textLine = line }
            if s[i] == "\n" { line += 1 }
            text.append(s[i])
            i += 1
        }
        // keep_trailing_newline=False: one final newline of the template is dropped.
        if let last = text.last, last == "\n" {
            text.removeLast()
            if text.last == "\r" { text.removeLast() }
        }
        flushText(stripTrailing: false, lstripLine: false)
        return chunks
    }
}
