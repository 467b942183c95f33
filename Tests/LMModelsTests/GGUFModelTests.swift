import Foundation
import LMCPU
import LMModels
import LMTensor
import Testing

/// Tiny fixture models converted to GGUF as llama.cpp would (including the `llama` Q/K row
/// permutation) reproduce the transformers goldens through the GGUF path.
@Suite struct GGUFModelTests {
    let backend = try! CPUBackend(threads: 2)

    @Test(arguments: [("tiny-llama", "llama"), ("tiny-qwen2", "qwen2"), ("tiny-qwen3", "qwen3"), ("tiny-gemma3", "gemma3")])
    func convertedFixtureMatchesGolden(model: String, arch: String) throws {
        let path = GGUFFixtures.temporaryPath(model)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try GGUFFixtures.writer(model: model, arch: arch).write(to: path)
        let loaded = try ModelLoader.load(path: path, backend: backend)
        #expect(loaded.spec.rope.style == (arch == "llama" ? .interleaved : .neox))
        #expect(loaded.spec.tiedEmbeddings == (model == "tiny-qwen2" || model == "tiny-gemma3"))
        let golden = try Fixtures.golden(model)
        for (name, c) in golden.cases {
            let session = try SequenceSession(model: loaded.model)
            let logits = try session.extend(c.inputIds, logits: .all)
            #expect(backend.argmax(logits) == c.argmax, "\(model) as GGUF \(arch), \(name)")
            let last = Array(backend.download(logits)[((c.inputIds.count - 1) * loaded.spec.vocabSize)...])
            #expect(relativeL2(last, c.lastLogits) < 2e-5, "\(model) as GGUF \(arch), \(name)")
            let greedy = try GreedyGenerator(session: session).generate(prompt: c.inputIds, maxNewTokens: c.greedy.count)
            #expect(greedy.tokens == c.greedy, "\(model) as GGUF \(arch), \(name)")
        }
    }

    @Test func metadataValuesOfEveryKindRoundTrip() throws {
        var writer = try GGUFFixtures.writer(model: "tiny-llama", arch: "llama")
        writer.set("test.i32", .i32(-7))
        writer.set("test.bool", .bool(true))
        writer.set("test.u64", .u64(1 << 40))
        writer.set("test.strings", .strings(["a", "", "ünï"]))
        writer.set("test.floats", .f32s([1.5, -2]))
        let path = GGUFFixtures.temporaryPath("metadata")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writer.write(to: path)
        let file = try GGUFFile(path: path)
        #expect(file.version == 3)
        #expect(file.metadata["test.i32"] == .int(-7))
        #expect(file.metadata["test.bool"] == .bool(true))
        #expect(file.metadata["test.u64"] == .uint(1 << 40))
        #expect(file.metadata["test.strings"] == .array([.string("a"), .string(""), .string("ünï")]))
        #expect(file.metadata["test.floats"] == .array([.float(1.5), .float(-2)]))
        #expect(file.tensors["token_embd.weight"]?.shape == [512, 64])
    }
}
