#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension JinjaInterpreter {
    func binary(_ op: String, _ left: JinjaValue, _ right: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
        switch op {
        case "==": return .bool(equal(left, right))
        case "!=": return .bool(!equal(left, right))
        case "<", "<=", ">", ">=":
            let order = try compare(left, right, line: line)
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "in": return .bool(try contains(right, left, line: line))
        case "not in": return .bool(!(try contains(right, left, line: line)))
        case "~": return .string(left.text + right.text)
        case "+":
            switch (left, right) {
            case let (.string(a), .string(b)): return .string(a + b)
            case let (.array(a), .array(b)): return .array(a + b)
            default: return try arithmetic(op, left, right, line: line)
            }
        case "*":
            switch (left, right) {
            case let (.string(s), .int(n)), let (.int(n), .string(s)):
                guard n <= limits.outputBytes / max(s.utf8.count, 1) else { throw .limit(line: line, message: "string repetition too large") }
                return .string(String(repeating: s, count: max(n, 0)))
            case let (.array(a), .int(n)), let (.int(n), .array(a)):
                guard n <= limits.rangeLength / max(a.count, 1) else { throw .limit(line: line, message: "list repetition too large") }
                return .array(Array(repeatElement(a, count: max(n, 0)).joined()))
            default: return try arithmetic(op, left, right, line: line)
            }
        default: return try arithmetic(op, left, right, line: line)
        }
    }

    private func arithmetic(_ op: String, _ left: JinjaValue, _ right: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
        func number(_ v: JinjaValue) -> Double? {
            switch v {
            case let .int(i): Double(i)
            case let .double(d): d
            case let .bool(b): b ? 1 : 0
            default: nil
            }
        }
        if case let .int(a) = left, case let .int(b) = right {
            switch op {
            case "+": return .int(a &+ b)
            case "-": return .int(a &- b)
            case "*": return .int(a &* b)
            case "//", "%":
                guard b != 0 else { throw .runtime(line: line, message: "division by zero") }
                let q = Int((Double(a) / Double(b)).rounded(.down))
                return op == "//" ? .int(q) : .int(a - q * b)
            case "**":
                guard b >= 0 else { return .double(pow(Double(a), Double(b))) }
                guard b < 64 else { throw .limit(line: line, message: "exponent too large") }
                var result = 1
                for _ in 0..<b { result = result &* a }
                return .int(result)
            default: break
            }
        }
        guard let a = number(left), let b = number(right) else {
            throw .runtime(line: line, message: "unsupported operand types for \(op): \(left.typeName) and \(right.typeName)")
        }
        switch op {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw .runtime(line: line, message: "division by zero") }
            return .double(a / b)
        case "//":
            guard b != 0 else { throw .runtime(line: line, message: "division by zero") }
            return .double((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw .runtime(line: line, message: "division by zero") }
            return .double(a - (a / b).rounded(.down) * b)
        case "**": return .double(pow(a, b))
        default: throw .runtime(line: line, message: "unknown operator \(op)")
        }
    }

    /// Python equality: numbers by value across int/float/bool, containers element-wise.
    func equal(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.none, .none), (.undefined, .undefined): return true
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.entries.allSatisfy { entry in y[entry.key].map { equal(entry.value, $0) } ?? false }
        case let (.namespace(x), .namespace(y)): return x === y
        default:
            if let x = numeric(a), let y = numeric(b) { return x == y }
            return false
        }
    }

    private func numeric(_ v: JinjaValue) -> Double? {
        switch v {
        case let .int(i): Double(i)
        case let .double(d): d
        case let .bool(b): b ? 1 : 0
        default: nil
        }
    }

    func compare(_ a: JinjaValue, _ b: JinjaValue, line: Int) throws(JinjaError) -> Int {
        if let x = numeric(a), let y = numeric(b) { return x < y ? -1 : x > y ? 1 : 0 }
        if case let .string(x) = a, case let .string(y) = b {
            // Python compares code points.
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : x == y ? 0 : 1
        }
        if case let .array(x) = a, case let .array(y) = b {
            for (p, q) in zip(x, y) {
                let c = try compare(p, q, line: line)
                if c != 0 { return c }
            }
            return x.count < y.count ? -1 : x.count > y.count ? 1 : 0
        }
        throw .runtime(line: line, message: "cannot compare \(a.typeName) with \(b.typeName)")
    }

    func contains(_ container: JinjaValue, _ item: JinjaValue, line: Int) throws(JinjaError) -> Bool {
        switch container {
        case let .string(s):
            guard case let .string(needle) = item else { throw .runtime(line: line, message: "'in <string>' needs a string") }
            return needle.isEmpty || s.firstRange(of: needle) != nil
        case let .array(items): return items.contains { equal($0, item) }
        case let .object(object): return object[item.text] != nil
        case let .namespace(ns): return ns.attributes[item.text] != nil
        case .undefined: return false
        default: throw .runtime(line: line, message: "\(container.typeName) does not support 'in'")
        }
    }
}

