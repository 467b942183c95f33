/// `tojson` as transformers defines it: Python's `json.dumps(value, ensure_ascii=False,
/// indent=indent)`: separators ", " and ": " (just "," between lines when indenting),
/// insertion order kept, non-ASCII kept, no HTML escaping.
enum JinjaJSON {
    static func encode(_ value: JinjaValue, indent: Int?, line: Int) throws(JinjaError) -> String {
        var out = ""
        try write(value, indent: indent, level: 0, into: &out, line: line)
        return out
    }

    private static func write(_ value: JinjaValue, indent: Int?, level: Int, into out: inout String, line: Int) throws(JinjaError) {
        guard level < 64 else { throw .limit(line: line, message: "tojson nests deeper than 64") }
        let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
        let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) }
        switch value {
        case .undefined, .none: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += d.isFinite ? pythonFloat(d) : d.isNaN ? "NaN" : d < 0 ? "-Infinity" : "Infinity"
        case let .string(s): out += quoted(s)
        case let .array(items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += indent == nil ? ", " : "," }
                if let newline { out += newline }
                try write(item, indent: indent, level: level + 1, into: &out, line: line)
            }
            out += (closing ?? "") + "]"
        case let .object(object):
            try writeObject(object, indent: indent, level: level, newline: newline, closing: closing, into: &out, line: line)
        case let .namespace(ns):
            try writeObject(ns.attributes, indent: indent, level: level, newline: newline, closing: closing, into: &out, line: line)
        case .macro, .function:
            throw .runtime(line: line, message: "tojson cannot encode a \(value.typeName)")
        }
    }

    private static func writeObject(_ object: JinjaObject, indent: Int?, level: Int, newline: String?, closing: String?,
                                    into out: inout String, line: Int) throws(JinjaError) {
        guard !object.isEmpty else { out += "{}"; return }
        out += "{"
        for (index, entry) in object.entries.enumerated() {
            if index > 0 { out += indent == nil ? ", " : "," }
            if let newline { out += newline }
            out += quoted(entry.key) + ": "
            try write(entry.value, indent: indent, level: level + 1, into: &out, line: line)
        }
        out += (closing ?? "") + "}"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 { out += "\\u" + hex(scalar.value, digits: 4) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
