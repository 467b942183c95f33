import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMEngine
import LMModels
import LMTensor
import LMTokenizers

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Greedy generation from a text prompt (prints the text as it is generated) or from token ids (prints the new ids).")

    @Option(help: "A Hugging Face model folder (config.json, *.safetensors) or a GGUF file (default: SmolLM2-135M-Instruct Q4_1, fetched on first use).")
    var model: String?

    @Option(help: "The prompt as text, tokenized with the model's tokenizer.")
    var prompt: String?

    @Option(help: "A user message, sent through the model's chat template (with the assistant turn opened).")
    var chat: String?

    @Option(help: "A Jinja file to use instead of the model's chat template (with --chat).")
    var chatTemplate: String?

    @Option(help: "Prompt token ids, comma separated (e.g. 1,2,3).")
    var promptIds: String?

    @Option(help: "The most tokens to generate.")
    var maxTokens: Int = 32

    @Flag(help: "Keep generating after the model's end-of-sequence token.")
    var ignoreEos = false

    @Flag(help: "Print one JSON object instead of plain ids.")
    var json = false

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must not be negative, got \(maxTokens)") }
        guard [prompt, chat, promptIds].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --prompt, --chat and --prompt-ids")
        }
        if let promptIds { _ = try parsePromptIDs(promptIds) }
    }

    func parsePromptIDs(_ promptIds: String) throws -> [Int32] {
        let parts = promptIds.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { !$0.isWhitespace }) }
        let ids = try parts.map { part in
            guard let id = Int32(part), id >= 0 else { throw ValidationError("--prompt-ids: \"\(part)\" is not a token id") }
            return id
        }
        guard !ids.isEmpty else { throw ValidationError("--prompt-ids must hold at least one id") }
        return ids
    }

    func run() throws {
        let path = try model ?? DefaultModel.resolve()
        let tokenizer = promptIds == nil ? try TokenizerLoader.load(path: path) : nil
        let prompt: [Int32]
        if let chat, let tokenizer {
            let template = try ChatTemplates.resolve(tokenizer: tokenizer, override: chatTemplate)
            let text = try template.render(messages: [.object(JinjaObject([("role", .string("user")), ("content", .string(chat))]))],
                                           addGenerationPrompt: true, bosToken: tokenizer.configuration.bosToken,
                                           eosToken: tokenizer.configuration.eosToken)
            prompt = tokenizer.encode(text, addSpecialTokens: false)   // the template wrote any BOS itself
        } else if let tokenizer, let text = self.prompt {
            prompt = tokenizer.encode(text)
        } else {
            prompt = try parsePromptIDs(promptIds!)
        }
        guard !prompt.isEmpty else { throw CLIError("the prompt is empty after tokenization") }
        let backend = try backendOptions.makeBackend()
        try BackendOptions.checkSupported(try ModelLoader.inspect(path: path).1, on: backend)
        let loaded = try ModelLoader.load(path: path, backend: backend)
        let limit = loaded.spec.maxPositions
        guard prompt.count + maxTokens <= limit else {
            throw CLIError("the prompt (\(prompt.count) tokens) plus --max-tokens (\(maxTokens)) exceeds the model's context of \(limit) tokens")
        }
        let session = try SequenceSession(model: loaded.model, capacity: max(prompt.count + maxTokens, 1))
        let stops = ignoreEos ? [] : Set(loaded.eosTokenIDs)
        var stream = tokenizer.map { StreamingDetokenizer(tokenizer: $0) }
        let result = try GreedyGenerator(session: session).generate(prompt: prompt, maxNewTokens: maxTokens, stopTokens: stops) { id in
            // Text streams to the terminal as soon as it is final.
            if !json, let text = stream?.append(id), !text.isEmpty { printRaw(text) }
        }
        if !json, let rest = stream?.finish() { printRaw(rest + "\n") }
        if tokenizer != nil && !json { return }
        if json {
            let output = GenerateOutput(promptTokens: prompt.count, tokens: result.tokens, finishReason: result.finishReason,
                                        prefillSeconds: result.prefillSeconds, decodeSeconds: result.decodeSeconds,
                                        text: tokenizer?.decode(result.tokens, skipSpecialTokens: true))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print(result.tokens.map(String.init).joined(separator: " "))
        }
    }
}

struct GenerateOutput: Encodable {
    var promptTokens: Int
    var tokens: [Int32]
    var finishReason: GenerationResult.Stop
    var prefillSeconds: Double
    var decodeSeconds: Double
    var text: String?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", tokens, finishReason = "finish_reason", text
        case prefillSeconds = "prefill_seconds", decodeSeconds = "decode_seconds"
    }
}
