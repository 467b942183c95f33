extension JinjaInterpreter {
    func applyFilter(_ name: String, to value: JinjaValue, arguments args: [JinjaValue], keywords: [(String, JinjaValue)],
                     line: Int) throws(JinjaError) -> JinjaValue {
        func arg(_ i: Int, _ key: String) -> JinjaValue? {
            i < args.count ? args[i] : keywords.first { $0.0 == key }?.1
        }
        func items() throws(JinjaError) -> [JinjaValue] { try iterate(value, line: line) }
        switch name {
        case "trim":
            return .string(JinjaText.strip(value.text, arg(0, "chars"), leading: true, trailing: true))
        case "tojson":
            var indent: Int?
            if case let .int(i)? = arg(0, "indent") { indent = i }
            return .string(try JinjaJSON.encode(value, indent: indent, line: line))
        case "length", "count":
            switch value {
            case let .string(s): return .int(s.count)
            case let .array(a): return .int(a.count)
            case let .object(o): return .int(o.count)
            case .undefined: return .int(0)
            default: throw .runtime(line: line, message: "\(value.typeName) has no length")
            }
        case "join":
            let separator = arg(0, "d")?.text ?? ""
            var parts = try items()
            if let attribute = arg(1, "attribute") { parts = try parts.map { v throws(JinjaError) in try self.attribute(v, attribute.text, line: line) } }
            return .string(parts.map(\.text).joined(separator: separator))
        case "default", "d":
            let fallback = arg(0, "default_value") ?? .string("")
            let boolean = arg(1, "boolean")?.isTruthy ?? false
            return (boolean ? value.isTruthy : value.isDefined) ? value : fallback
        case "first": return try items().first ?? .undefined("first")
        case "last": return try items().last ?? .undefined("last")
        case "list": return .array(try items())
        case "string": return .string(value.text)
        case "safe", "e", "escape", "forceescape":
            if name == "safe" { return value }
            return .string(value.text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
                .replacing("\"", with: "&#34;").replacing("'", with: "&#39;"))
        case "int":
            switch value {
            case let .int(i): return .int(i)
            case let .double(d): return .int(Int(d))
            case let .bool(b): return .int(b ? 1 : 0)
            case let .string(s): return Int(s.trimmingCharacters()).map { .int($0) } ?? Double(s.trimmingCharacters()).map { .int(Int($0)) } ?? arg(0, "default") ?? .int(0)
            default: return arg(0, "default") ?? .int(0)
            }
        case "float":
            switch value {
            case let .int(i): return .double(Double(i))
            case let .double(d): return .double(d)
            case let .string(s): return Double(s.trimmingCharacters()).map { .double($0) } ?? arg(0, "default") ?? .double(0)
            default: return arg(0, "default") ?? .double(0)
            }
        case "abs":
            switch value {
            case let .int(i): return .int(abs(i))
            case let .double(d): return .double(abs(d))
            default: throw .runtime(line: line, message: "abs of \(value.typeName)")
            }
        case "upper": return .string(value.text.uppercased())
        case "lower": return .string(value.text.lowercased())
        case "title": return .string(JinjaText.title(value.text))
        case "capitalize": return .string(JinjaText.capitalize(value.text))
        case "replace": return .string(JinjaText.replace(value.text, arg(0, "old")?.text ?? "", arg(1, "new")?.text ?? "", count: arg(2, "count")))
        case "indent":
            let width: String = switch arg(0, "width") {
            case let .string(s)?: s
            case let .int(n)?: String(repeating: " ", count: max(0, n))
            default: "    "
            }
            let first = arg(1, "first")?.isTruthy ?? false, blank = arg(2, "blank")?.isTruthy ?? false
            let lines = value.text.split(separator: "\n", omittingEmptySubsequences: false)
            return .string(lines.enumerated().map { index, line in
                (index == 0 && !first) || (!blank && line.allSatisfy(\.isWhitespace)) ? String(line) : width + line
            }.joined(separator: "\n"))
        case "items":
            guard case let .object(object) = value else { return .array([]) }
            return .array(object.entries.map { .array([.string($0.key), $0.value]) })
        case "reverse":
            if case let .string(s) = value { return .string(String(s.reversed())) }
            return .array(try items().reversed())
        case "unique":
            var seen: [JinjaValue] = []
            for item in try items() where !seen.contains(where: { equal($0, item) }) { seen.append(item) }
            return .array(seen)
        case "sort":
            let reverse = arg(0, "reverse")?.isTruthy ?? false
            let attribute = arg(2, "attribute")?.text
            var sorted = try items()
            var failure: JinjaError?
            sorted.sort { a, b in
                do {
                    let x = try attribute.map { k throws(JinjaError) in try self.attribute(a, k, line: line) } ?? a
                    let y = try attribute.map { k throws(JinjaError) in try self.attribute(b, k, line: line) } ?? b
                    return try (reverse ? compare(y, x, line: line) : compare(x, y, line: line)) < 0
                } catch {
                    failure = error as? JinjaError
                    return false
                }
            }
            if let failure { throw failure }
            return .array(sorted)
        case "sum":
            var total: JinjaValue = arg(1, "start") ?? .int(0)
            for item in try items() {
                let v = try arg(0, "attribute").map { k throws(JinjaError) in try attribute(item, k.text, line: line) } ?? item
                total = try binary("+", total, v, line: line)
            }
            return total
        case "min", "max":
            let list = try items()
            guard var best = list.first else { return .undefined(name) }
            for item in list.dropFirst() where try compare(item, best, line: line) * (name == "min" ? -1 : 1) > 0 { best = item }
            return best
        case "round":
            let precision: Int = if case let .int(p)? = arg(0, "precision") { p } else { 0 }
            guard case let .double(d) = value else { return value }
            var scale = 1.0
            for _ in 0..<max(precision, 0) { scale *= 10 }
            return .double((d * scale).rounded(.toNearestOrEven) / scale)
        case "attr":
            return try attribute(value, arg(0, "name")?.text ?? "", line: line)
        case "map":
            let list = try items()
            if let attribute = keywords.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = keywords.first { $0.0 == "default" }?.1
                return .array(try list.map { v throws(JinjaError) in
                    let result = try self.attribute(v, attribute.text, line: line)
                    return result.isDefined ? result : fallback ?? result
                })
            }
            guard let filter = args.first?.text else { return .array(list) }
            return .array(try list.map { v throws(JinjaError) in try applyFilter(filter, to: v, arguments: Array(args.dropFirst()), keywords: [], line: line) })
        case "select", "reject":
            let list = try items()
            let keep = name == "select"
            var kept: [JinjaValue] = []
            for v in list {
                let passes = try args.first.map { test throws(JinjaError) in try applyTest(test.text, to: v, arguments: Array(args.dropFirst()), line: line) } ?? v.isTruthy
                if passes == keep { kept.append(v) }
            }
            return .array(kept)
        case "selectattr", "rejectattr":
            let list = try items()
            let keep = name == "selectattr"
            guard let key = args.first?.text else { throw .runtime(line: line, message: "\(name) needs an attribute") }
            var kept: [JinjaValue] = []
            for v in list {
                let field = try attribute(v, key, line: line)
                let passes = args.count > 1 ? try applyTest(args[1].text, to: field, arguments: Array(args.dropFirst(2)), line: line) : field.isTruthy
                if passes == keep { kept.append(v) }
            }
            return .array(kept)
        case "dictsort":
            guard case let .object(object) = value else { throw .runtime(line: line, message: "dictsort needs a dict") }
            return .array(object.entries.sorted { $0.key.lowercased() < $1.key.lowercased() }.map { .array([.string($0.key), $0.value]) })
        case "wordcount": return .int(value.text.split(whereSeparator: \.isWhitespace).count)
        case "center":
            let width = if case let .int(w)? = arg(0, "width") { w } else { 80 }
            let text = value.text, padding = max(0, width - text.count)
            return .string(String(repeating: " ", count: padding / 2) + text + String(repeating: " ", count: padding - padding / 2))
        case "batch":
            guard case let .int(size)? = arg(0, "linecount"), size > 0 else { throw .runtime(line: line, message: "batch needs a positive size") }
            let list = try items()
            return .array(stride(from: 0, to: list.count, by: size).map { .array(Array(list[$0..<min(list.count, $0 + size)])) })
        default:
            throw .runtime(line: line, message: "unknown filter \"\(name)\"")
        }
    }

    func applyTest(_ name: String, to value: JinjaValue, arguments args: [JinjaValue], line: Int) throws(JinjaError) -> Bool {
        let other = args.first ?? .undefined("argument")
        switch name {
        case "defined": return value.isDefined
        case "undefined": return !value.isDefined
        case "none": if case .none = value { return true }; return false
        case "boolean": if case .bool = value { return true }; return false
        case "true": if case .bool(true) = value { return true }; return false
        case "false": if case .bool(false) = value { return true }; return false
        case "string": if case .string = value { return true }; return false
        case "number":
            switch value { case .int, .double: return true; default: return false }
        case "integer": if case .int = value { return true }; return false
        case "float": if case .double = value { return true }; return false
        case "mapping":
            switch value { case .object, .namespace: return true; default: return false }
        case "iterable", "sequence":
            switch value { case .array, .object, .string: return true; default: return false }
        case "callable":
            switch value { case .macro, .function: return true; default: return false }
        case "equalto", "eq", "==", "sameas": return equal(value, other)
        case "ne", "!=": return !equal(value, other)
        case "lt", "lessthan", "<": return try compare(value, other, line: line) < 0
        case "le", "<=": return try compare(value, other, line: line) <= 0
        case "gt", "greaterthan", ">": return try compare(value, other, line: line) > 0
        case "ge", ">=": return try compare(value, other, line: line) >= 0
        case "in": return try contains(other, value, line: line)
        case "odd", "even", "divisibleby":
            guard case let .int(i) = value else { return false }
            if name == "odd" { return i % 2 != 0 }
            if name == "even" { return i % 2 == 0 }
            guard case let .int(d) = other, d != 0 else { return false }
            return i % d == 0
        case "lower": return value.text == value.text.lowercased()
        case "upper": return value.text == value.text.uppercased()
        case "escaped": return false
        default: throw .runtime(line: line, message: "unknown test \"\(name)\"")
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        JinjaText.strip(self, nil, leading: true, trailing: true)
    }
}
