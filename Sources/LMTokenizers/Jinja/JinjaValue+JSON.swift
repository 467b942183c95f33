extension JinjaValue {
    /// Parses JSON keeping object key order and the int/float distinction, as Python's
    /// `json.loads` does (chat messages and tool schemas are rendered back with `tojson`).
    public init(json text: String) throws(JinjaError) {
        var parser = JSONParser(Array(text.unicodeScalars))
        self = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.error("trailing characters") }
    }
}

private struct JSONParser {
    let s: [Unicode.Scalar]
    var i = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    var atEnd: Bool { i >= s.count }

    func error(_ message: String) -> JinjaError { .syntax(line: 0, message: "invalid JSON at character \(i): \(message)") }

    mutating func skipWhitespace() {
        while i < s.count, s[i] == " " || s[i] == "\n" || s[i] == "\t" || s[i] == "\r" { i += 1 }
    }

    mutating func value(depth: Int) throws(JinjaError) -> JinjaValue {
        guard depth < 128 else { throw error("nested too deeply") }
        skipWhitespace()
        guard i < s.count else { throw error("unexpected end") }
        switch s[i] {
        case "{":
            i += 1
            var object = JinjaObject()
            skipWhitespace()
            if i < s.count, s[i] == "}" { i += 1; return .object(object) }
            while true {
                skipWhitespace()
                guard i < s.count, s[i] == "\"" else { throw error("expected a key") }
                let key = try string()
                skipWhitespace()
                guard i < s.count, s[i] == ":" else { throw error("expected ':'") }
                i += 1
                object[key] = try value(depth: depth + 1)
                skipWhitespace()
                guard i < s.count else { throw error("unterminated object") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "}" { i += 1; return .object(object) }
                throw error("expected ',' or '}'")
            }
        case "[":
            i += 1
            var items: [JinjaValue] = []
            skipWhitespace()
            if i < s.count, s[i] == "]" { i += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard i < s.count else { throw error("unterminated array") }
                if s[i] == "," { i += 1; continue }
                if s[i] == "]" { i += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        case "\"":
            return .string(try string())
        case "t": return try literal("true", .bool(true))
        case "f": return try literal("false", .bool(false))
        case "n": return try literal("null", .none)
        default: return try number()
        }
    }

    mutating func literal(_ word: String, _ value: JinjaValue) throws(JinjaError) -> JinjaValue {
        let scalars = Array(word.unicodeScalars)
        guard i + scalars.count <= s.count, Array(s[i..<(i + scalars.count)]) == scalars else { throw error("unexpected token") }
        i += scalars.count
        return value
    }

    mutating func number() throws(JinjaError) -> JinjaValue {
        let start = i
        var isFloat = false
        while i < s.count, "+-0123456789.eE".unicodeScalars.contains(s[i]) {
            if s[i] == "." || s[i] == "e" || s[i] == "E" { isFloat = true }
            i += 1
        }
        let text = String(String.UnicodeScalarView(s[start..<i]))
        if !isFloat, let int = Int(text) { return .int(int) }
        guard let double = Double(text) else { throw error("bad number \"\(text)\"") }
        return .double(double)
    }

    mutating func string() throws(JinjaError) -> String {
        i += 1
        var out = String.UnicodeScalarView()
        while i < s.count {
            let c = s[i]
            i += 1
            if c == "\"" { return String(out) }
            guard c == "\\" else { out.append(c); continue }
            guard i < s.count else { break }
            let e = s[i]
            i += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "u":
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), i + 1 < s.count, s[i] == "\\", s[i + 1] == "u" {
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) { code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) }
                }
                out.append(Unicode.Scalar(code) ?? "\u{FFFD}")   // a lone surrogate becomes U+FFFD
            default: out.append(e)
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws(JinjaError) -> UInt32 {
        guard i + 4 <= s.count, let code = UInt32(String(String.UnicodeScalarView(s[i..<(i + 4)])), radix: 16) else { throw error("bad \\u escape") }
        i += 4
        return code
    }
}
