#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension JinjaInterpreter {
    /// Global functions every template sees; `range` is bounded by the limits at call time.
    static let builtins: [String: JinjaValue] = [
        "namespace": .function(JinjaFunction(name: "namespace") { positional, keywords in
            var attributes = JinjaObject()
            if case let .object(initial)? = positional.first { attributes = initial }
            for (key, value) in keywords { attributes[key] = value }
            return .namespace(JinjaNamespace(attributes))
        }),
        "raise_exception": .function(JinjaFunction(name: "raise_exception") { positional, _ throws(JinjaError) in
            throw .raised(line: 0, message: positional.first?.text ?? "")
        }),
        "dict": .function(JinjaFunction(name: "dict") { positional, keywords in
            var object = JinjaObject()
            if case let .object(initial)? = positional.first { object = initial }
            for (key, value) in keywords { object[key] = value }
            return .object(object)
        }),
    ]

    /// Methods of strings and dictionaries (`text.strip()`, `message.get("x")`); nil when `base`
    /// has no such method, so the caller falls back to calling the attribute.
    func callMethod(_ base: JinjaValue, _ name: String, _ args: [JinjaValue], _ keywords: [(String, JinjaValue)], line: Int) throws(JinjaError) -> JinjaValue? {
        func arg(_ i: Int, _ key: String) -> JinjaValue? {
            i < args.count ? args[i] : keywords.first { $0.0 == key }?.1
        }
        switch base {
        case let .string(s):
            switch name {
            case "strip": return .string(JinjaText.strip(s, arg(0, "chars"), leading: true, trailing: true))
            case "lstrip": return .string(JinjaText.strip(s, arg(0, "chars"), leading: true, trailing: false))
            case "rstrip": return .string(JinjaText.strip(s, arg(0, "chars"), leading: false, trailing: true))
            case "split": return .array(try JinjaText.split(s, arg(0, "sep"), maxSplit: arg(1, "maxsplit"), line: line).map { .string($0) })
            case "startswith", "endswith":
                let candidates: [JinjaValue] = if case let .array(items)? = arg(0, "prefix") { items } else { [arg(0, "prefix") ?? .string("")] }
                return .bool(candidates.contains { name == "startswith" ? s.hasPrefix($0.text) : s.hasSuffix($0.text) })
            case "upper": return .string(s.uppercased())
            case "lower": return .string(s.lowercased())
            case "title": return .string(JinjaText.title(s))
            case "capitalize": return .string(JinjaText.capitalize(s))
            case "replace":
                return .string(JinjaText.replace(s, arg(0, "old")?.text ?? "", arg(1, "new")?.text ?? "", count: arg(2, "count")))
            case "find":
                guard let needle = arg(0, "sub")?.text, let range = s.firstRange(of: needle) else { return .int(-1) }
                return .int(s.distance(from: s.startIndex, to: range.lowerBound))
            case "count": return .int(s.ranges(of: arg(0, "sub")?.text ?? "").count)
            case "join":
                guard let items = arg(0, "iterable") else { return .string("") }
                return .string(try iterate(items, line: line).map(\.text).joined(separator: s))
            case "splitlines": return .array(s.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { .string(String($0)) })
            case "isdigit": return .bool(!s.isEmpty && s.allSatisfy(\.isNumber))
            case "isalpha": return .bool(!s.isEmpty && s.allSatisfy(\.isLetter))
            case "isspace": return .bool(!s.isEmpty && s.allSatisfy(\.isWhitespace))
            default: return nil
            }
        case let .object(object):
            switch name {
            case "items": return .array(object.entries.map { .array([.string($0.key), $0.value]) })
            case "keys": return .array(object.entries.map { .string($0.key) })
            case "values": return .array(object.entries.map(\.value))
            case "get": return object[arg(0, "key")?.text ?? ""] ?? arg(1, "default") ?? JinjaValue.none
            default: return nil
            }
        case .array where ["append", "extend", "pop", "insert", "remove", "clear", "sort", "reverse"].contains(name),
             .object where ["update", "pop", "clear", "setdefault"].contains(name):
            throw .runtime(line: line, message: "\(name)() would modify a \(base.typeName), which templates may not do")
        case let .undefined(undefined):
            throw .runtime(line: line, message: "\(undefined) is undefined (calling .\(name)())")
        default:
            return nil
        }
    }

    func global(_ name: String) -> JinjaValue? {
        switch name {
        case "range": return .function(JinjaFunction(name: "range") { [limits] args, _ throws(JinjaError) in
            let ints = try args.map { value throws(JinjaError) -> Int in
                guard case let .int(i) = value else { throw .runtime(line: 0, message: "range() takes integers") }
                return i
            }
            let (start, stop, step) = switch ints.count {
            case 1: (0, ints[0], 1)
            case 2: (ints[0], ints[1], 1)
            case 3: (ints[0], ints[1], ints[2])
            default: (0, 0, 1)
            }
            guard step != 0 else { throw .runtime(line: 0, message: "range() step cannot be zero") }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            guard count <= limits.rangeLength else { throw .limit(line: 0, message: "range() of \(count) items exceeds \(limits.rangeLength)") }
            return .array(stride(from: start, to: stop, by: step).map { .int($0) })
        })
        case "strftime_now": return .function(JinjaFunction(name: "strftime_now") { [now] args, _ in
            .string(JinjaText.strftime(args.first?.text ?? "", now))
        })
        default: return nil
        }
    }
}
