#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Server-sent event framing as OpenAI streams it: `data: {json}\n\n`, then `data: [DONE]\n\n`.
public enum SSE {
    public static let done = "data: [DONE]\n\n"

    public static func data<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let json = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "data: " + json + "\n\n"
    }
}
