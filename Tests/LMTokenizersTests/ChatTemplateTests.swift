import Foundation
import LMTokenizers
import Testing

/// Every render in ../shared/fixtures/chat-templates/expected.jsonl, byte for byte.
@Suite struct ChatTemplateTests {
    struct Render {
        let template: String
        let conversation: String
        let messages: [JinjaValue]
        let tools: [JinjaValue]?
        let addGenerationPrompt: Bool
        let continueFinalMessage: Bool
        let bosToken: String?
        let eosToken: String?
        let rendered: String?
    }

    static func renders() throws -> [Render] {
        let text = try String(contentsOfFile: TokenizerFixtures.root + "/chat-templates/expected.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard case let .object(o) = try JinjaValue(json: String(line)) else { throw JinjaError.syntax(line: 0, message: "bad line") }
            func string(_ key: String) -> String? { if case let .string(s)? = o[key] { return s }; return nil }
            func array(_ key: String) -> [JinjaValue]? { if case let .array(a)? = o[key] { return a }; return nil }
            return Render(template: string("template")!, conversation: string("conversation")!, messages: array("messages")!,
                          tools: array("tools"), addGenerationPrompt: o["add_generation_prompt"]!.isTruthy,
                          continueFinalMessage: o["continue_final_message"]!.isTruthy, bosToken: string("bos_token"),
                          eosToken: string("eos_token"), rendered: string("rendered"))
        }
    }

    static func check(_ error: any Error, expectedFailure: Bool, label: String) {
        let raised: Bool
        switch error as? JinjaError {
        case .raised?: raised = true
        default: raised = false
        }
        if !expectedFailure || !raised { Issue.record("\(label): \(error)") }
    }

    @Test func everyFixtureRenderMatches() throws {
        var templates: [String: ChatTemplate] = [:]
        let renders = try Self.renders()
        #expect(renders.count == 98)
        for render in renders {
            if templates[render.template] == nil {
                let source = try String(contentsOfFile: TokenizerFixtures.root + "/chat-templates/\(render.template).jinja", encoding: .utf8)
                templates[render.template] = try ChatTemplate(source)
            }
            let label = "\(render.template) / \(render.conversation) / generation prompt \(render.addGenerationPrompt) / continue \(render.continueFinalMessage)"
            do {
                let output = try templates[render.template]!.render(
                    messages: render.messages, tools: render.tools, addGenerationPrompt: render.addGenerationPrompt,
                    continueFinalMessage: render.continueFinalMessage, bosToken: render.bosToken, eosToken: render.eosToken,
                    now: .fixed(year: 2025, month: 6, day: 15, hour: 9, minute: 30, second: 0))
                if let expected = render.rendered {
                    #expect(output == expected, "\(label)")
                } else {
                    Issue.record("\(label): expected an error, rendered \(output.debugDescription)")
                }
            } catch {
                Self.check(error, expectedFailure: render.rendered == nil, label: label)
            }
        }
    }
}
