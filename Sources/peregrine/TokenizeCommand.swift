import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMEngine
import LMTokenizers

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text (or, with --decode, the text of ids).")

    @Option(help: "A model folder, tokenizer.json or GGUF file (default: the default model).")
    var model: String?

    @Option(help: "The text to tokenize (or ids to decode, comma or space separated, with --decode).")
    var text: String?

    @Option(help: "Read the text from a file instead.")
    var file: String?

    @Flag(help: "Turn ids back into text.")
    var decode = false

    @Flag(help: "Add the model's special tokens (BOS) as the model's tokenizer config says.")
    var addSpecialTokens = false

    @Flag(help: "Print JSON ({\"ids\": [...], \"tokens\": [...]} or {\"text\": ...}).")
    var json = false

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text and --file") }
    }

    func run() throws {
        let tokenizer = try TokenizerLoader.load(path: model ?? DefaultModel.resolve())
        let input: String
        if let text {
            input = text
        } else {
            // Invalid UTF-8 in the file becomes U+FFFD, as Python's errors="replace" does.
            guard let data = FileManager.default.contents(atPath: file!) else { throw CLIError("cannot read \(file!)") }
            input = String(decoding: data, as: UTF8.self)
        }
        if decode {
            let ids = try input.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { part in
                guard let id = Int32(part), id >= 0, Int(id) < tokenizer.vocabularySize else {
                    throw CLIError("\"\(part)\" is not a token id of this vocabulary (0..<\(tokenizer.vocabularySize))")
                }
                return id
            }
            let decoded = tokenizer.decode(ids)
            print(json ? jsonString(["text": decoded]) : decoded)
            return
        }
        let ids = tokenizer.encode(input, addSpecialTokens: addSpecialTokens)
        if json {
            let tokens = ids.map { tokenizer.token(for: $0) ?? "" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(TokenizeOutput(ids: ids, tokens: tokens)), as: UTF8.self))
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }

    private struct TokenizeOutput: Encodable {
        var ids: [Int32]
        var tokens: [String]
    }

    private func jsonString(_ object: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
