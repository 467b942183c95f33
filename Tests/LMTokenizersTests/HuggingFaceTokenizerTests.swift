import Foundation
import LMTokenizers
import Testing

/// tokenizer.json of every fixture vocabulary against Hugging Face tokenizers' own ids.
@Suite struct HuggingFaceTokenizerTests {
    @Test(arguments: TokenizerFixtures.vocabularies)
    func idsMatchTheReference(vocabulary: String) throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/\(vocabulary)")
        for c in try TokenizerFixtures.cases(vocabulary) {
            let ids = tokenizer.encode(c.text, addSpecialTokens: false)
            #expect(ids == c.hf_ids, "\(vocabulary) case \(c.index): \(c.text.debugDescription)")
        }
    }
}
