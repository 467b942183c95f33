/// Splits a server-sent event stream, arriving in arbitrary byte chunks, into the payloads of
/// its `data:` fields (one per event; multi-line data joined with newlines).
public struct SSEParser: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [String] {
        pending.append(contentsOf: bytes)
        var events: [String] = []
        var start = 0
        var index = 0
        while index + 1 < pending.count {
            // An event ends at a blank line: "\n\n" (or "\r\n\r\n", whose "\r"s are dropped below).
            if pending[index] == UInt8(ascii: "\n"),
               pending[index + 1] == UInt8(ascii: "\n") || (pending[index + 1] == UInt8(ascii: "\r") && index + 2 < pending.count && pending[index + 2] == UInt8(ascii: "\n")) {
                if let data = Self.data(pending[start..<index]) { events.append(data) }
                index += pending[index + 1] == UInt8(ascii: "\n") ? 2 : 3
                start = index
            } else {
                index += 1
            }
        }
        pending.removeFirst(start)
        return events
    }

    private static func data(_ event: ArraySlice<UInt8>) -> String? {
        let lines = String(decoding: event, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let payload = lines.compactMap { line -> Substring? in
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            guard line.hasPrefix("data:") else { return nil }
            let value = line.dropFirst(5)
            return value.hasPrefix(" ") ? value.dropFirst() : value
        }
        return payload.isEmpty ? nil : payload.joined(separator: "\n")
    }
}
