import Foundation

/// Latency targets a request must meet to count toward goodput (`--slo ttft=200,tpot=50`), in
/// milliseconds; keys `ttft`, `tpot` and `e2el` as vLLM names them.
public struct ServiceLevelObjectives: Sendable, Equatable, Codable {
    public var ttft: Double?
    public var tpot: Double?
    public var e2el: Double?

    public init(ttft: Double? = nil, tpot: Double? = nil, e2el: Double? = nil) {
        self.ttft = ttft
        self.tpot = tpot
        self.e2el = e2el
    }

    public enum ParseError: Error, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self {
            case let .malformed(part): "--slo expects KEY=MILLISECONDS pairs with keys ttft, tpot, e2el, separated by commas; got `\(part)`"
            }
        }
    }

    /// Parses `ttft=200,tpot=50`.
    public init(parsing text: String) throws(ParseError) {
        self.init()
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Double(pair[1].trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite
            else { throw .malformed(String(part)) }
            switch pair[0].trimmingCharacters(in: .whitespaces) {
            case "ttft": ttft = value
            case "tpot": tpot = value
            case "e2el": e2el = value
            default: throw .malformed(String(part))
            }
        }
        guard ttft != nil || tpot != nil || e2el != nil else { throw .malformed(text) }
    }

    /// Whether a successful request met every target.
    public func met(by record: RequestRecord) -> Bool {
        if let ttft, record.timeToFirstToken * 1000 > ttft { return false }
        if let tpot, let measured = record.timePerOutputToken, measured * 1000 > tpot { return false }
        if let e2el, record.latency * 1000 > e2el { return false }
        return true
    }
}
