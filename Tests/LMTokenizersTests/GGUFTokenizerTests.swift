import Foundation
import LMEngine
import LMTokenizers
import Testing

/// Each fixture's vocab.gguf against llama.cpp's own test vectors (tests.out), and decoding
/// round trips.
@Suite struct GGUFTokenizerTests {
    @Test(arguments: TokenizerFixtures.vocabularies)
    func idsMatchLlamaCpp(vocabulary: String) throws {
        let tokenizer = try TokenizerLoader.load(path: TokenizerFixtures.root + "/tokenizers/\(vocabulary)/vocab.gguf")
        for c in try TokenizerFixtures.cases(vocabulary) {
            let ids = tokenizer.encode(c.text, addSpecialTokens: false)
            #expect(ids == c.ids, "\(vocabulary) case \(c.index): \(c.text.debugDescription)")
        }
    }
}

/// Decoding gives back the text, for every fixture case and both loaders.
@Suite struct RoundTripTests {
    @Test(arguments: TokenizerFixtures.vocabularies)
    func decodeInvertsEncode(vocabulary: String) throws {
        let folder = TokenizerFixtures.root + "/tokenizers/\(vocabulary)"
        for tokenizer in [try Tokenizer.load(path: folder), try TokenizerLoader.load(path: folder + "/vocab.gguf")] {
            for c in try TokenizerFixtures.cases(vocabulary) {
                #expect(tokenizer.decode(tokenizer.encode(c.text, addSpecialTokens: false)) == c.text, "\(vocabulary) case \(c.index)")
            }
        }
    }

    @Test func specialTokensAreMatchedAndSkippable() throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/qwen2")
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecialTokens: false)
        #expect(ids.first == 151644 && ids.last == 151645)
        #expect(tokenizer.decode(ids) == "<|im_start|>user\nHi<|im_end|>")
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == "user\nHi")
    }
}

/// The tokenizers of the model fixtures give the ids the goldens were made with.
@Suite struct ModelTokenizerTests {
    struct SmolGolden: Decodable {
        struct Message: Decodable { let role: String; let content: String }
        struct Case: Decodable {
            let kind: String; let text: String; let input_ids: [Int32]; let greedy: [Int32]; let greedy_text: String
            let messages: [Message]?
        }
        let cases: [Case]
    }

    @Test func tinyTokenizerAddsBOSAndEncodesTheSourceText() throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/models/tiny-llama")
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TokenizerFixtures.root + "/models/tiny-llama/golden.json"))) as! [String: Any]
        let cases = golden["cases"] as! [String: [String: Any]]
        for (_, c) in cases {
            guard let text = c["text_source"] as? String else { continue }   // len1 is BOS alone
            let ids = (c["input_ids"] as! [Int]).map(Int32.init)
            let encoded = tokenizer.encode(text)
            #expect(Array(encoded.prefix(ids.count)) == ids)
        }
        #expect(tokenizer.configuration.chatTemplate?.contains("<|im_start|>") == true)
        #expect(tokenizer.configuration.eosToken == "<|eos|>" && tokenizer.configuration.eosTokenID == 1)
    }

    @Test func defaultModelTokenizerMatchesTransformers() throws {
        // Fetched by the default-model tests or .ci/run; absent only on a machine without them.
        let home = ProcessInfo.processInfo.environment["PEREGRINE_HOME"] ?? (NSHomeDirectory() + "/.cache/peregrine")
        let modelPath = home + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: modelPath) else { return }
        let tokenizer = try TokenizerLoader.load(path: modelPath)
        let golden = try JSONDecoder().decode(SmolGolden.self, from: Data(contentsOf: URL(fileURLWithPath: TokenizerFixtures.root + "/smollm2/golden.json")))
        let template = try ChatTemplate(tokenizer.configuration.chatTemplate!)
        for c in golden.cases {
            #expect(tokenizer.encode(c.text) == c.input_ids, "\(c.kind): \(c.text.debugDescription)")
            #expect(tokenizer.decode(c.greedy) == c.greedy_text)
            if let messages = c.messages {
                // The GGUF's own template, rendered as transformers did for the golden.
                let rendered = try template.render(
                    messages: messages.map { .object(JinjaObject([("role", .string($0.role)), ("content", .string($0.content))])) },
                    addGenerationPrompt: true, bosToken: tokenizer.configuration.bosToken, eosToken: tokenizer.configuration.eosToken)
                #expect(rendered == c.text)
                #expect(tokenizer.encode(rendered, addSpecialTokens: false) == c.input_ids)
            }
        }
    }
}

/// Streaming every fixture case one token at a time gives the full decode, and no chunk holds
/// a replacement character the full decode does not (no split UTF-8 sequences).
@Suite struct StreamingTests {
    @Test(arguments: TokenizerFixtures.vocabularies)
    func streamedTextEqualsTheFullDecode(vocabulary: String) throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/\(vocabulary)")
        for c in try TokenizerFixtures.cases(vocabulary) {
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var chunks: [String] = []
            for id in c.hf_ids { chunks.append(stream.append(id)) }
            chunks.append(stream.finish())
            let full = tokenizer.decode(c.hf_ids, skipSpecialTokens: true)
            #expect(chunks.joined() == full, "\(vocabulary) case \(c.index)")
            let replacements = chunks.map { $0.unicodeScalars.filter { $0 == "\u{FFFD}" }.count }.reduce(0, +)
            #expect(replacements == full.unicodeScalars.filter { $0 == "\u{FFFD}" }.count, "\(vocabulary) case \(c.index)")
        }
    }

    @Test func stopStringsAreHeldBackAndExcluded() throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/gpt-2")
        let ids = tokenizer.encode("Hello world. The end is near.", addSpecialTokens: false)
        var stream = StreamingDetokenizer(tokenizer: tokenizer, stopStrings: ["end is"])
        var out = ""
        for id in ids {
            out += stream.append(id)
            #expect(!out.contains("end"))
            if stream.stopped { break }
        }
        out += stream.finish()
        #expect(stream.stopped && out == "Hello world. The ")
        // A partial match that never completes is released at the end.
        var partial = StreamingDetokenizer(tokenizer: tokenizer, stopStrings: ["near!"])
        var text = ""
        for id in ids { text += partial.append(id) }
        text += partial.finish()
        #expect(!partial.stopped && text == "Hello world. The end is near.")
    }
}
