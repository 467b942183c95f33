import Foundation
import LMCPU
import LMModels
import Testing

/// Damaged GGUF files give typed errors naming what broke; none crashes.
@Suite struct GGUFErrorTests {
    let backend = try! CPUBackend(threads: 1)

    private func error(_ data: Data) -> ModelLoadError? {
        let path = GGUFFixtures.temporaryPath("error")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try! data.write(to: URL(fileURLWithPath: path))
        do {
            _ = try ModelLoader.load(path: path, backend: backend)
            return nil
        } catch let error as ModelLoadError {
            return error
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    private var valid: GGUFWriter { try! GGUFFixtures.writer(model: "tiny-llama", arch: "llama") }

    @Test func wrongMagic() {
        var data = valid.encode()
        data.replaceSubrange(0..<4, with: Array("GGML".utf8))
        guard case let .notAModel(_, reason)? = error(data) else { Issue.record("\(String(describing: error(data)))"); return }
        #expect(reason.contains("GGUF"))
        // Opened as GGUF explicitly, the magic is named.
        let path = GGUFFixtures.temporaryPath("magic")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try! data.write(to: URL(fileURLWithPath: path))
        #expect(throws: ModelLoadError.ggufBadMagic(file: path, found: "\"GGML\"")) { try GGUFFile(path: path) }
    }

    @Test(arguments: [UInt32(1), 4, 0xFFFF])
    func unsupportedVersion(version: UInt32) {
        var writer = valid
        writer.version = version
        guard case let .ggufUnsupportedVersion(_, found)? = error(writer.encode()) else { Issue.record("\(String(describing: error(writer.encode())))"); return }
        #expect(found == version)
    }

    @Test func truncatedMetadata() {
        let data = valid.encode()
        // Cut inside the first key's length field.
        guard case let .ggufTruncated(_, reading, offset)? = error(data.prefix(26)) else { Issue.record("\(String(describing: error(data.prefix(26))))"); return }
        #expect(reading.hasPrefix("metadata") && offset == 24)
        // Cut anywhere in the metadata: one of the two truncation errors, never a crash.
        for length in stride(from: 27, to: 400, by: 7) {
            switch error(data.prefix(length)) {
            case .ggufTruncated?, .ggufStringPastEnd?: break
            case let other: Issue.record("cut at \(length): \(String(describing: other))")
            }
        }
    }

    @Test func stringLengthPastTheEnd() {
        var data = valid.encode()
        // The first key's length field sits right after magic, version and the two counts.
        data.replaceSubrange(24..<32, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        guard case let .ggufStringPastEnd(_, _, length, _)? = error(data) else { Issue.record("\(String(describing: error(data)))"); return }
        #expect(length == 1 << 40)
    }

    @Test func tensorOffsetOutOfBounds() {
        var writer = valid
        writer.tensors[3].data = Data(count: 16)   // shorter data than its shape needs: later offsets shift
        let data = writer.encode().prefix(writer.encode().count - 4096)
        guard case let .tensorOutOfBounds(_, tensor, _, _, _)? = error(Data(data)) else { Issue.record("\(String(describing: error(Data(data))))"); return }
        #expect(!tensor.isEmpty)
    }

    @Test func unknownQuantType() {
        var writer = valid
        writer.tensors[0].type = 99
        #expect(error(writer.encode()).map { "\($0)" }?.contains("unknown ggml type 99") == true)
    }

    @Test func knownButUnsupportedQuantTypeNamesTheTensor() {
        var writer = valid
        let index = writer.tensors.firstIndex { $0.name == "blk.0.ffn_up.weight" }!
        writer.tensors[index].type = 10   // Q2_K: 84 bytes per 256 values
        writer.tensors[index].dimensions = [256, 1]
        writer.tensors[index].data = Data(count: 84)
        guard case let .unsupportedDType(_, tensor, dtype)? = error(writer.encode()) else { Issue.record("\(String(describing: error(writer.encode())))"); return }
        #expect(tensor == "blk.0.ffn_up.weight" && dtype == "Q2_K")
    }

    @Test func unsupportedArchitectureIsNamed() {
        var writer = valid
        writer.set("general.architecture", .string("mamba"))
        let failure = error(writer.encode())
        #expect(failure.map { "\($0)" }?.contains("\"mamba\"") == true)
        guard case .unsupportedArchitecture(_, "mamba")? = failure else { Issue.record("\(String(describing: failure))"); return }
    }

    @Test func missingMetadataIsNamed() {
        var writer = valid
        writer.metadata.removeAll { $0.0 == "llama.block_count" }
        guard case let .missingMetadata(_, key)? = error(writer.encode()) else { Issue.record("\(String(describing: error(writer.encode())))"); return }
        #expect(key == "llama.block_count")
    }

    @Test func missingTensorIsNamed() {
        var writer = valid
        writer.tensors.removeAll { $0.name == "blk.1.attn_v.weight" }
        guard case let .missingTensor(tensor, _)? = error(writer.encode()) else { Issue.record("\(String(describing: error(writer.encode())))"); return }
        #expect(tensor == "blk.1.attn_v.weight")
    }

    /// Thousands of randomly corrupted copies of a small GGUF model: every one loads (and then
    /// runs a token) or throws a ModelLoadError; none crashes or hangs.
    @Test func randomCorruptionNeverCrashes() throws {
        var writer = GGUFWriter()
        let arch = "llama", c = 8, f = 16, vocab = 16
        for (key, value) in [("block_count", 1), ("context_length", 32), ("embedding_length", c), ("feed_forward_length", f),
                             ("attention.head_count", 2), ("attention.head_count_kv", 1)] {
            writer.set("\(arch).\(key)", .u32(UInt32(value)))
        }
        writer.set("general.architecture", .string(arch))
        writer.set("\(arch).rope.freq_base", .f32(10_000))
        writer.set("tokenizer.ggml.tokens", .strings((0..<vocab).map { "t\($0)" }))
        writer.set("tokenizer.ggml.scores", .f32s((0..<vocab).map(Float.init)))
        writer.set("tokenizer.ggml.token_type", .i32s(Array(repeating: 1, count: vocab)))
        func add(_ name: String, _ shape: [Int]) {
            writer.addF32(name, shape: shape, values: (0..<shape.reduce(1, *)).map { Float($0 % 7) * 0.1 })
        }
        add("token_embd.weight", [vocab, c]); add("output_norm.weight", [c])
        add("blk.0.attn_norm.weight", [c]); add("blk.0.ffn_norm.weight", [c])
        add("blk.0.attn_q.weight", [c, c]); add("blk.0.attn_k.weight", [c / 2, c]); add("blk.0.attn_v.weight", [c / 2, c])
        add("blk.0.attn_output.weight", [c, c]); add("blk.0.ffn_gate.weight", [f, c]); add("blk.0.ffn_up.weight", [f, c])
        add("blk.0.ffn_down.weight", [c, f])
        let original = writer.encode()
        #expect(error(original) == nil)

        var generator = Reference(seed: 0x5eed)
        let path = GGUFFixtures.temporaryPath("fuzz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var loaded = 0, failed = 0
        for round in 0..<2000 {
            var data = original
            switch round % 3 {
            case 0:   // flip a few bytes
                for _ in 0..<(1 + generator.next(4)) { data[generator.next(data.count)] = UInt8(generator.next(256)) }
            case 1:   // truncate
                data = data.prefix(generator.next(data.count))
            default:  // overwrite an 8-byte field with an extreme value
                let at = generator.next(max(1, data.count - 8))
                let extreme: [UInt64] = [0, 1, UInt64.max, UInt64(Int64.max), 1 << 32, 1 << 62]
                data.replaceSubrange(at..<(at + 8), with: withUnsafeBytes(of: extreme[generator.next(extreme.count)]) { Data($0) })
            }
            try data.write(to: URL(fileURLWithPath: path))
            do {
                let model = try ModelLoader.load(path: path, backend: backend)
                _ = try SequenceSession(model: model.model, capacity: 4).extend([0])
                loaded += 1
            } catch is ModelLoadError {
                failed += 1
            } catch is ForwardError {
                failed += 1
            }
        }
        #expect(loaded + failed == 2000 && failed > 1000)
    }

    /// A small deterministic generator for the fuzz rounds.
    struct Reference {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
    }
}
