/// A value in a chat template, with Python's semantics where Jinja2 defers to Python
/// (truthiness, `str()`, comparisons). Dictionaries keep insertion order, as Python's do.
public indirect enum JinjaValue: Sendable {
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case object(JinjaObject)
    case namespace(JinjaNamespace)
    case macro(JinjaMacro)
    case function(JinjaFunction)

    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case let .bool(b): b
        case let .int(i): i != 0
        case let .double(d): d != 0
        case let .string(s): !s.isEmpty
        case let .array(a): !a.isEmpty
        case let .object(o): !o.isEmpty
        case .namespace, .macro, .function: true
        }
    }

    public var isDefined: Bool {
        if case .undefined = self { return false }
        return true
    }

    /// Python's `str(value)` (Jinja's output of `{{ value }}`); undefined prints nothing.
    public var text: String {
        switch self {
        case .undefined: return ""
        case let .string(s): return s
        default: return pythonRepresentation(topLevel: true)
        }
    }

    /// Python's `repr` (strings quoted), used inside lists and dictionaries.
    func pythonRepresentation(topLevel: Bool = false) -> String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return String(i)
        case let .double(d): return pythonFloat(d)
        case let .string(s): return topLevel ? s : pythonQuoted(s)
        case let .array(a): return "[" + a.map { $0.pythonRepresentation() }.joined(separator: ", ") + "]"
        case let .object(o): return "{" + o.entries.map { pythonQuoted($0.key) + ": " + $0.value.pythonRepresentation() }.joined(separator: ", ") + "}"
        case .namespace: return "<Namespace>"
        case .macro: return "<Macro>"
        case .function: return "<function>"
        }
    }

    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "none"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "float"
        case .string: "string"
        case .array: "list"
        case .object: "dict"
        case .namespace: "namespace"
        case .macro: "macro"
        case .function: "function"
        }
    }
}

/// An insertion-ordered string-keyed dictionary.
public struct JinjaObject: Sendable {
    public private(set) var entries: [(key: String, value: JinjaValue)] = []
    private var index: [String: Int] = [:]

    public init(_ pairs: [(String, JinjaValue)] = []) {
        for (key, value) in pairs { self[key] = value }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public subscript(key: String) -> JinjaValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let position = index[key] {
                if let newValue { entries[position].value = newValue } else { remove(key) }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    private mutating func remove(_ key: String) {
        guard let position = index[key] else { return }
        entries.remove(at: position)
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) })
    }
}

/// `namespace()`: the one mutable object templates may assign attributes of.
public final class JinjaNamespace: @unchecked Sendable {
    var attributes = JinjaObject()
    init(_ attributes: JinjaObject) { self.attributes = attributes }
}

/// A `{% macro %}` definition with its default arguments evaluated at call time.
public struct JinjaMacro: @unchecked Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: JinjaExpression?)]
    let body: [JinjaNode]
}

/// A built-in function (`range`, `namespace`, `raise_exception`, ...).
public struct JinjaFunction: @unchecked Sendable {
    let name: String
    let call: (_ positional: [JinjaValue], _ keywords: [(String, JinjaValue)]) throws(JinjaError) -> JinjaValue
}

/// Python's `repr` of a string: single quotes unless the text holds one and no double quote.
func pythonQuoted(_ s: String) -> String {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(scalar) == quote { out += "\\" + String(quote) }
            else if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\x" + hex(scalar.value, digits: 2) }
            else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + String(quote)
}

/// Python's `repr(float)`: the shortest round-trip digits, with ".0" for integral values and
/// exponent form outside 1e-4 ..< 1e16.
func pythonFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    let magnitude = abs(d)
    if magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e16) {
        // Swift prints e.g. "1e-05"; Python prints "1e-05" too (two-digit exponent minimum).
        var text = "\(d)"
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            var mantissa = String(text[..<e])
            if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
            var exponent = String(text[text.index(after: e)...])
            let sign = exponent.hasPrefix("-") ? "-" : "+"
            exponent = String(exponent.trimmingPrefix(while: { $0 == "-" || $0 == "+" }))
            if exponent.count < 2 { exponent = "0" + exponent }
            text = mantissa + "e" + sign + exponent
        }
        return text
    }
    if d == d.rounded(), magnitude < 1e16 { return String(Int(d)) + ".0" }
    return "\(d)"
}

func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}
