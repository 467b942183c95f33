/// A token inside `{{ }}` or `{% %}`.
struct JinjaToken: Equatable {
    enum Kind: Equatable {
        case name(String)
        case string(String)
        case int(Int)
        case double(Double)
        case op(String)
    }
    let kind: Kind
    let line: Int
}

enum JinjaTokenizer {
    static let operators = ["**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "~",
                            "+", "-", "*", "/", "%", "=", "<", ">"]

    static func tokens(_ source: String, line startLine: Int) throws(JinjaError) -> [JinjaToken] {
        let s = Array(source.unicodeScalars)
        var tokens: [JinjaToken] = []
        var i = 0, line = startLine
        while i < s.count {
            let c = s[i]
            if c == "\n" { line += 1; i += 1; continue }
            if c.properties.isWhitespace { i += 1; continue }
            if c == "'" || c == "\"" {
                var value = String.UnicodeScalarView()
                var j = i + 1
                var closed = false
                while j < s.count {
                    if s[j] == c { closed = true; break }
                    if s[j] == "\\", j + 1 < s.count {
                        j += 1
                        switch s[j] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        case "\\": value.append("\\")
                        case "'": value.append("'")
                        case "\"": value.append("\"")
                        case "0": value.append("\0")
                        case "u", "x":
                            let digits = s[j] == "u" ? 4 : 2
                            guard j + digits < s.count, let code = UInt32(String(String.UnicodeScalarView(s[(j + 1)...(j + digits)])), radix: 16),
                                  let scalar = Unicode.Scalar(code) else { throw .syntax(line: line, message: "bad escape in string") }
                            value.append(scalar)
                            j += digits
                        default: value.append("\\"); value.append(s[j])
                        }
                    } else {
                        if s[j] == "\n" { line += 1 }
                        value.append(s[j])
                    }
                    j += 1
                }
                guard closed else { throw .syntax(line: line, message: "unterminated string") }
                tokens.append(JinjaToken(kind: .string(String(value)), line: line))
                i = j + 1
                continue
            }
            if c.properties.numericType == .decimal && c.isASCII {
                var j = i
                while j < s.count && ((s[j].isASCII && s[j].properties.numericType == .decimal) || s[j] == "_") { j += 1 }
                var isDouble = false
                if j + 1 < s.count && s[j] == "." && s[j + 1].isASCII && s[j + 1].properties.numericType == .decimal {
                    isDouble = true
                    j += 1
                    while j < s.count && s[j].isASCII && s[j].properties.numericType == .decimal { j += 1 }
                }
                if j < s.count && (s[j] == "e" || s[j] == "E") {
                    var k = j + 1
                    if k < s.count && (s[k] == "+" || s[k] == "-") { k += 1 }
                    if k < s.count && s[k].isASCII && s[k].properties.numericType == .decimal {
                        isDouble = true
                        j = k
                        while j < s.count && s[j].isASCII && s[j].properties.numericType == .decimal { j += 1 }
                    }
                }
                let text = String(String.UnicodeScalarView(s[i..<j])).replacing("_", with: "")
                if isDouble {
                    guard let value = Double(text) else { throw .syntax(line: line, message: "bad number \(text)") }
                    tokens.append(JinjaToken(kind: .double(value), line: line))
                } else {
                    guard let value = Int(text) else { throw .syntax(line: line, message: "number \(text) is too large") }
                    tokens.append(JinjaToken(kind: .int(value), line: line))
                }
                i = j
                continue
            }
            if c == "_" || c.properties.isAlphabetic {
                var j = i
                while j < s.count && (s[j] == "_" || s[j].properties.isAlphabetic || (s[j].isASCII && s[j].properties.numericType == .decimal)) { j += 1 }
                tokens.append(JinjaToken(kind: .name(String(String.UnicodeScalarView(s[i..<j]))), line: line))
                i = j
                continue
            }
            var matched = false
            for op in operators {
                let opScalars = Array(op.unicodeScalars)
                if i + opScalars.count <= s.count && Array(s[i..<(i + opScalars.count)]) == opScalars {
                    tokens.append(JinjaToken(kind: .op(op), line: line))
                    i += opScalars.count
                    matched = true
                    break
                }
            }
            if !matched { throw .syntax(line: line, message: "unexpected character \"\(Character(c))\"") }
        }
        return tokens
    }
}
