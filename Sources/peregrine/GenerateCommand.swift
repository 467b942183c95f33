import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMModels
import LMTensor

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Greedy generation from prompt token ids; prints the new ids.")

    @Option(help: "A Hugging Face model folder (config.json, *.safetensors) or a GGUF file (default: SmolLM2-135M-Instruct Q4_1, fetched on first use).")
    var model: String?

    @Option(help: "Prompt token ids, comma separated (e.g. 1,2,3).")
    var promptIds: String

    @Option(help: "The most tokens to generate.")
    var maxTokens: Int = 32

    @Flag(help: "Keep generating after the model's end-of-sequence token.")
    var ignoreEos = false

    @Flag(help: "Print one JSON object instead of plain ids.")
    var json = false

    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must not be negative, got \(maxTokens)") }
        _ = try parsePromptIDs()
    }

    func parsePromptIDs() throws -> [Int32] {
        let parts = promptIds.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { !$0.isWhitespace }) }
        let ids = try parts.map { part in
            guard let id = Int32(part), id >= 0 else { throw ValidationError("--prompt-ids: \"\(part)\" is not a token id") }
            return id
        }
        guard !ids.isEmpty else { throw ValidationError("--prompt-ids must hold at least one id") }
        return ids
    }

    func run() throws {
        let prompt = try parsePromptIDs()
        let backend = try backendOptions.makeBackend()
        let loaded = try ModelLoader.load(path: model ?? DefaultModel.resolve(), backend: backend)
        let limit = loaded.spec.maxPositions
        guard prompt.count + maxTokens <= limit else {
            throw CLIError("the prompt (\(prompt.count) tokens) plus --max-tokens (\(maxTokens)) exceeds the model's context of \(limit) tokens")
        }
        let session = try SequenceSession(model: loaded.model, capacity: max(prompt.count + maxTokens, 1))
        let stops = ignoreEos ? [] : Set(loaded.eosTokenIDs)
        let result = try GreedyGenerator(session: session).generate(prompt: prompt, maxNewTokens: maxTokens, stopTokens: stops)
        if json {
            let output = GenerateOutput(promptTokens: prompt.count, tokens: result.tokens, finishReason: result.finishReason,
                                        prefillSeconds: result.prefillSeconds, decodeSeconds: result.decodeSeconds)
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
    var finishReason: FinishReason
    var prefillSeconds: Double
    var decodeSeconds: Double

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", tokens, finishReason = "finish_reason"
        case prefillSeconds = "prefill_seconds", decodeSeconds = "decode_seconds"
    }
}
