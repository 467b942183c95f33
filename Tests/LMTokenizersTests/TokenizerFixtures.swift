import Foundation

/// The shared tokenizer fixtures (see ../shared/fixtures/README.md, section 1).
enum TokenizerFixtures {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["PEREGRINE_FIXTURES"] { return path }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    static let vocabularies = ["gpt-2", "llama-bpe", "qwen2", "llama-spm", "phi-3"]

    struct Case: Decodable {
        let index: Int
        let text: String
        let ids: [Int32]
        let hf_ids: [Int32]
    }

    static func cases(_ name: String) throws -> [Case] {
        let text = try String(contentsOfFile: root + "/tokenizers/\(name)/cases.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Case.self, from: Data($0.utf8)) }
    }
}
