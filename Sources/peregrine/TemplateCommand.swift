import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMEngine
import LMTokenizers

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Print the prompt a model's chat template renders for a conversation, exactly.")

    @Option(help: "A model folder, tokenizer.json or GGUF file (default: the default model).")
    var model: String?

    @Option(help: "A JSON file holding the messages: [{\"role\": ..., \"content\": ...}, ...].")
    var messages: String

    @Option(help: "A JSON file holding the tool schemas.")
    var tools: String?

    @Flag(help: "End with the assistant's turn header.")
    var addGenerationPrompt = false

    @Flag(help: "Leave the final message open for the model to continue.")
    var continueFinalMessage = false

    @Option(help: "A Jinja file to use instead of the model's template.")
    var chatTemplate: String?

    func validate() throws {
        if addGenerationPrompt && continueFinalMessage {
            throw ValidationError("--add-generation-prompt and --continue-final-message cannot be combined")
        }
    }

    func run() throws {
        let tokenizer = try TokenizerLoader.load(path: model ?? DefaultModel.resolve())
        let template = try ChatTemplates.resolve(tokenizer: tokenizer, override: chatTemplate)
        guard case let .array(messageList) = try ChatTemplates.readJSON(messages) else {
            throw CLIError("\(messages) must hold a JSON list of messages")
        }
        var toolList: [JinjaValue]?
        if let tools {
            guard case let .array(list) = try ChatTemplates.readJSON(tools) else { throw CLIError("\(tools) must hold a JSON list") }
            toolList = list
        }
        let rendered = try template.render(messages: messageList, tools: toolList, addGenerationPrompt: addGenerationPrompt,
                                           continueFinalMessage: continueFinalMessage, bosToken: tokenizer.configuration.bosToken,
                                           eosToken: tokenizer.configuration.eosToken)
        printRaw(rendered)
    }
}

/// Finding a model's chat template and reading conversations for the CLI.
enum ChatTemplates {
    static func resolve(tokenizer: Tokenizer, override: String?) throws -> ChatTemplate {
        if let override {
            guard let data = FileManager.default.contents(atPath: override) else { throw CLIError("cannot read \(override)") }
            return try ChatTemplate(String(decoding: data, as: UTF8.self))
        }
        guard let source = tokenizer.configuration.chatTemplate else {
            throw CLIError("the model has no chat template; pass --chat-template FILE.jinja")
        }
        return try ChatTemplate(source)
    }

    static func readJSON(_ path: String) throws -> JinjaValue {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        do { return try JinjaValue(json: String(decoding: data, as: UTF8.self)) } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}
