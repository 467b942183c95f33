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

extension SSE {
    /// The most common event, a text chunk without logprobs, written by hand: JSONEncoder took
    /// about 13 µs a chunk, the largest single item of the HTTP layer's CPU per streamed token
    /// (perf, 64 streams).
    ///   completions: {"id","object":"text_completion","created","model","choices":[{"index","text","logprobs":null,"finish_reason"}],"usage":null}
    ///   chat:        {"id","object":"chat.completion.chunk","created","model","choices":[{"index","delta":{"content"},"logprobs":null,"finish_reason"}],"usage":null}
    public static func textChunk(chat: Bool, id: String, created: Int, model: String, index: Int, text: String, finish: String?) -> String {
        var out = "data: {\"id\":"
        out.reserveCapacity(160 + text.utf8.count + model.utf8.count)
        appendJSONString(id, to: &out)
        out += chat ? ",\"object\":\"chat.completion.chunk\",\"created\":" : ",\"object\":\"text_completion\",\"created\":"
        out += String(created)
        out += ",\"model\":"
        appendJSONString(model, to: &out)
        out += ",\"choices\":[{\"index\":"
        out += String(index)
        out += chat ? ",\"delta\":{\"content\":" : ",\"text\":"
        appendJSONString(text, to: &out)
        out += chat ? "},\"logprobs\":null,\"finish_reason\":" : ",\"logprobs\":null,\"finish_reason\":"
        if let finish { appendJSONString(finish, to: &out) } else { out += "null" }
        out += "}],\"usage\":null}\n\n"
        return out
    }

    /// Appends `text` as a JSON string literal (quotes, backslashes and control characters escaped).
    static func appendJSONString(_ text: String, to out: inout String) {
        out += "\""
        var plainStart = text.utf8.startIndex
        var index = plainStart
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                out += String(text[plainStart..<index])
                switch byte {
                case UInt8(ascii: "\""): out += "\\\""
                case UInt8(ascii: "\\"): out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                default:
                    let hex = String(byte, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
                plainStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        out += String(text[plainStart..<utf8.endIndex])
        out += "\""
    }
}
