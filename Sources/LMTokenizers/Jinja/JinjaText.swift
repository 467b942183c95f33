#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's string methods as templates use them.
enum JinjaText {
    /// `str.strip(chars)`: whitespace when chars is None.
    static func strip(_ s: String, _ chars: JinjaValue?, leading: Bool, trailing: Bool) -> String {
        let set: Set<Unicode.Scalar>? = if case let .string(c)? = chars { Set(c.unicodeScalars) } else { nil }
        func strip(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? scalar.properties.isWhitespace }
        var scalars = Substring(s).unicodeScalars
        if leading { while let first = scalars.first, strip(first) { scalars.removeFirst() } }
        if trailing { while let last = scalars.last, strip(last) { scalars.removeLast() } }
        return String(scalars)
    }

    /// `str.split(sep=None, maxsplit=-1)`.
    static func split(_ s: String, _ separator: JinjaValue?, maxSplit: JinjaValue?, line: Int) throws(JinjaError) -> [String] {
        var limit = Int.max
        if case let .int(m)? = maxSplit, m >= 0 { limit = m }
        guard case let .string(sep)? = separator else {
            // Runs of whitespace, leading and trailing whitespace ignored.
            var parts: [String] = []
            var rest = Substring(s).unicodeScalars
            while let first = rest.first, first.properties.isWhitespace { rest.removeFirst() }
            while !rest.isEmpty {
                if parts.count == limit {
                    var tail = rest
                    while let last = tail.last, last.properties.isWhitespace { tail.removeLast() }
                    parts.append(String(tail))
                    break
                }
                let end = rest.firstIndex { $0.properties.isWhitespace } ?? rest.endIndex
                parts.append(String(rest[..<end]))
                rest = rest[end...]
                while let first = rest.first, first.properties.isWhitespace { rest.removeFirst() }
            }
            return parts
        }
        guard !sep.isEmpty else { throw .runtime(line: line, message: "empty separator") }
        var parts: [String] = []
        var rest = Substring(s)
        while parts.count < limit, let range = rest.firstRange(of: sep) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: JinjaValue?) -> String {
        guard case let .int(limit)? = count, limit >= 0 else { return old.isEmpty ? s : s.replacing(old, with: new) }
        return s.replacing(old, with: new, maxReplacements: limit)
    }

    static func title(_ s: String) -> String {
        var out = "", previousIsLetter = false
        for c in s {
            out += previousIsLetter ? c.lowercased() : c.uppercased()
            previousIsLetter = c.isLetter
        }
        return out
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }

    /// `time.strftime` for the directives templates use.
    static func strftime(_ format: String, _ clock: JinjaClock) -> String {
        var t = tm()
        switch clock {
        case .system:
            var seconds = time(nil)
            localtime_r(&seconds, &t)
        case let .fixed(year, month, day, hour, minute, second):
            t.tm_year = Int32(year - 1900); t.tm_mon = Int32(month - 1); t.tm_mday = Int32(day)
            t.tm_hour = Int32(hour); t.tm_min = Int32(minute); t.tm_sec = Int32(second)
            var copy = t
            let seconds = timegm(&copy)
            var normalized = tm()
            var s = seconds
            gmtime_r(&s, &normalized)
            t = normalized
        }
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func pad(_ v: Int32, _ width: Int = 2) -> String {
            let text = String(v)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var out = ""
        var chars = Array(format)
        var i = 0
        while i < chars.count {
            guard chars[i] == "%", i + 1 < chars.count else { out.append(chars[i]); i += 1; continue }
            var directive = chars[i + 1]
            var unpadded = false
            if directive == "-", i + 2 < chars.count {   // GNU %-d
                unpadded = true
                directive = chars[i + 2]
                chars.remove(at: i + 1)
            }
            func number(_ v: Int32, _ width: Int = 2) -> String { unpadded ? String(v) : pad(v, width) }
            switch directive {
            case "Y": out += String(t.tm_year + 1900)
            case "y": out += pad((t.tm_year + 1900) % 100)
            case "m": out += number(t.tm_mon + 1)
            case "d": out += number(t.tm_mday)
            case "e": out += (t.tm_mday < 10 ? " " : "") + String(t.tm_mday)
            case "H": out += number(t.tm_hour)
            case "I": out += number(t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12)
            case "M": out += number(t.tm_min)
            case "S": out += number(t.tm_sec)
            case "p": out += t.tm_hour < 12 ? "AM" : "PM"
            case "B": out += months[Int(t.tm_mon)]
            case "b", "h": out += String(months[Int(t.tm_mon)].prefix(3))
            case "A": out += days[Int(t.tm_wday)]
            case "a": out += String(days[Int(t.tm_wday)].prefix(3))
            case "j": out += number(t.tm_yday + 1, 3)
            case "%": out += "%"
            default: out += "%" + String(directive)
            }
            i += 2
        }
        return out
    }
}
