import Foundation
import LMCPU
import LMModels
import LMTensor
import Testing

/// The default model (SmolLM2-135M-Instruct, Q4_1 GGUF) against transformers running the
/// dequantized GGUF in f32 (`../shared/fixtures/smollm2/golden.json`): greedy continuations
/// exact, top-50 last-position logits within 2e-3, argmax at every prompt position exact.
@Suite(.serialized) struct DefaultModelGoldenTests {
    struct Golden: Decodable {
        struct Case: Decodable {
            let kind: String
            let input_ids: [Int32]
            let last_top50: [[Double]]
            let argmax: [Int32]
            let greedy: [Int32]
            let stopped_at_eos: Bool
        }
        let cases: [Case]
        let eos_token_ids: [Int32]
    }

    /// The model, fetched with the project's script (as the binary does on first use).
    static let modelPath: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repo.appendingPathComponent("Sources/peregrine/Resources/fetch_default_model.py").path]
        let output = Pipe()
        process.standardOutput = output
        try! process.run()
        let path = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "scripts/fetch-default-model failed: the default model is needed by this test")
        return path
    }()

    static let golden: Golden = try! JSONDecoder().decode(
        Golden.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.root + "/smollm2/golden.json")))

    let backend = try! CPUBackend()

    @Test func matchesTransformers() throws {
        let loaded = try ModelLoader.load(path: Self.modelPath, backend: backend)
        #expect(loaded.eosTokenIDs == Self.golden.eos_token_ids)
        let vocab = loaded.spec.vocabSize
        for (index, c) in Self.golden.cases.enumerated() {
            let session = try SequenceSession(model: loaded.model, capacity: c.input_ids.count + 40)
            let logits = try session.extend(c.input_ids, logits: .all)
            #expect(backend.argmax(logits) == c.argmax, "case \(index) (\(c.kind)) argmax")
            let last = Array(backend.download(logits)[((c.input_ids.count - 1) * vocab)...])
            let worst = c.last_top50.map { abs(Double(last[Int($0[0])]) - $0[1]) }.max()!
            #expect(worst < 2e-3, "case \(index) (\(c.kind)): top-50 logits off by up to \(worst)")

            let result = try GreedyGenerator(session: session).generate(prompt: c.input_ids, maxNewTokens: 32,
                                                                       stopTokens: Set(loaded.eosTokenIDs))
            #expect(result.tokens == c.greedy, "case \(index) (\(c.kind)) greedy")
            #expect((result.finishReason == .stop) == c.stopped_at_eos)
        }
    }
}
