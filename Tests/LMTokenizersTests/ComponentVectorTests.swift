import Foundation
import LMTokenizers
import Testing

/// Components the fixture vocabularies do not use, against vectors made by the reference
/// libraries (scripts/make-tokenizer-vectors.py: Hugging Face tokenizers and jinja2).
@Suite struct ComponentVectorTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    struct TokenizerCase: Decodable {
        let text: String
        let ids: [Int32]
        let ids_with_special: [Int32]
        let decoded: String
        let decoded_keep_special: String
    }

    @Test func tokenizerComponentsMatchHuggingFace() throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("tokenizer-components.json"))
        guard case let .object(all) = try JinjaValue(json: String(decoding: data, as: UTF8.self)) else { Issue.record("bad vectors"); return }
        let raw = try JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
        #expect(all.count == raw.count)
        for (name, entry) in raw.sorted(by: { $0.key < $1.key }) {
            let tokenizerData = try JSONSerialization.data(withJSONObject: entry["tokenizer"]!)
            let tokenizer = try Tokenizer(json: tokenizerData, file: name)
            let cases = try JSONDecoder().decode([TokenizerCase].self, from: JSONSerialization.data(withJSONObject: entry["cases"]!))
            for c in cases {
                #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.ids, "\(name): \(c.text.debugDescription)")
                #expect(tokenizer.encode(c.text) == c.ids_with_special, "\(name) with special tokens: \(c.text.debugDescription)")
                #expect(tokenizer.decode(c.ids, skipSpecialTokens: true) == c.decoded, "\(name) decode: \(c.text.debugDescription)")
                #expect(tokenizer.decode(c.ids) == c.decoded_keep_special, "\(name) decode keeping specials: \(c.text.debugDescription)")
            }
        }
    }

    @Test func metaspaceVariantOfLlama2() throws {
        // tokenizer.metaspace.json: Metaspace(prepend_scheme "first", split false); ids in hf_ids_metaspace.
        let folder = TokenizerFixtures.root + "/tokenizers/llama-spm"
        let tokenizer = try Tokenizer(json: Data(contentsOf: URL(fileURLWithPath: folder + "/tokenizer.metaspace.json")), file: "metaspace")
        let text = try String(contentsOfFile: folder + "/cases.jsonl", encoding: .utf8)
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let expected = (object["hf_ids_metaspace"] as! [Int]).map(Int32.init)
            #expect(tokenizer.encode(object["text"] as! String, addSpecialTokens: false) == expected, "\(object["index"]!)")
        }
    }

    @Test func jinjaFeaturesMatchJinja2() throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent("jinja-features.json"), encoding: .utf8)
        guard case let .object(root) = try JinjaValue(json: text), case let .object(context)? = root["context"],
              case let .array(templates)? = root["templates"] else { Issue.record("bad vectors"); return }
        for case let .object(entry) in templates {
            let name = entry["name"]!.text
            do {
                let rendered = try JinjaTemplate(entry["template"]!.text).render(context)
                #expect(rendered == entry["rendered"]!.text, "\(name)")
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
    }
}
