import Foundation
import LMTokenizers
import Testing

/// Hostile or broken input ends in a typed error or a normal result, never a crash or a hang.
@Suite struct BadInputTests {
    @Test func invalidUTF8AndLoneSurrogatesTokenize() throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/llama-bpe")
        // Bytes that are not UTF-8 arrive as U+FFFD (as Python's errors="replace" reads them).
        let text = String(decoding: [0x48, 0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0x69], as: UTF8.self)
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        #expect(!ids.isEmpty && tokenizer.decode(ids) == text)
        // A lone surrogate in JSON (messages from a client) becomes U+FFFD too.
        let value = try JinjaValue(json: #"{"content": "a\ud800b"}"#)
        guard case let .object(object) = value, case let .string(content)? = object["content"] else { Issue.record("\(value)"); return }
        #expect(content == "a\u{FFFD}b")
    }

    /// One long pre-token (letters, spaces, emoji) or a flood of tiny ones (digits), 1 MB each.
    @Test(arguments: [("gpt-2", "a"), ("llama-bpe", "7"), ("llama-spm", " "), ("qwen2", "\u{1F999}")])
    func aMegabyteOfOneCharacter(vocabulary: String, character: String) throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/\(vocabulary)")
        do {
            let text = String(repeating: character, count: (1 << 20) / character.utf8.count)
            let start = Date()
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            #expect(!ids.isEmpty && tokenizer.decode(ids) == text)
            #expect(Date().timeIntervalSince(start) < 30, "\(vocabulary): 1 MB of \(character.debugDescription) took too long")
        }
    }

    @Test func malformedTokenizerJSON() throws {
        for (json, expected) in [("{", "not a valid tokenizer"), (#"{"model": {"type": "Unigram", "vocab": []}}"#, "\"Unigram\""),
                                 (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "b"]]}}"#, "merges"),
                                 (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Magic"}}"#, "\"Magic\"")] {
            #expect(performing: { try Tokenizer(json: Data(json.utf8), file: "t.json") }, throws: { error in
                (error as? TokenizerError).map { "\($0)".contains(expected) } ?? false
            })
        }
    }

    @Test func runawayTemplatesStopWithAClearError() throws {
        let cases: [(String, String)] = [
            ("{% for i in range(10**12) %}x{% endfor %}", "range()"),
            ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop iterations"),
            ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "nest deeper"),
            ("{{ 'ab' * 1000000000 }}", "too large"),
        ]
        var limits = JinjaTemplate.Limits()
        limits.iterations = 20_000   // the default is 1,000,000; a smaller bound keeps the debug test fast
        for (source, expected) in cases {
            let template = try JinjaTemplate(source)
            #expect(performing: { try template.render(JinjaObject(), limits: limits) }, throws: { error in
                guard case let .limit(_, message)? = error as? JinjaError else { return false }
                return message.contains(expected)
            })
        }
    }

    @Test func templateErrorsNameTheLine() throws {
        #expect(throws: JinjaError.syntax(line: 3, message: "unknown statement \"frobnicate\"")) {
            try JinjaTemplate("a\nb\n{% frobnicate %}")
        }
        #expect(performing: { try JinjaTemplate("{% if x %}\n{{ y }") }, throws: { error in
            if case .syntax(2, _)? = error as? JinjaError { return true }
            return false
        })
        let template = try JinjaTemplate("line one\n{{ missing.attribute }}")
        #expect(performing: { try template.render(JinjaObject()) }, throws: { error in
            if case let .runtime(2, message)? = error as? JinjaError { return message.contains("missing is undefined") }
            return false
        })
        #expect(throws: JinjaError.raised(line: 2, message: "no system role")) {
            try JinjaTemplate("x\n{{ raise_exception('no system role') }}").render(JinjaObject())
        }
        #expect(throws: (any Error).self) { try JinjaTemplate("{{ [1, 2].append(3) }}").render(JinjaObject()) }
    }
}
