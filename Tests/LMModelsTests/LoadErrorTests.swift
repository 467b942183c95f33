import Foundation
import LMCPU
import LMModels
import Testing

/// Damaged model folders fail with typed errors naming the file and the tensor or key; none
/// crashes. Each test starts from a copy of the tiny-llama fixture.
@Suite struct LoadErrorTests {
    let backend = try! CPUBackend(threads: 1)

    private func loadError(_ model: ScratchModel) -> ModelLoadError? {
        do {
            _ = try ModelLoader.load(path: model.directory, backend: backend)
            return nil
        } catch let error as ModelLoadError {
            return error
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    @Test func truncatedInsideTheData() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        let bytes = try model.read("model.safetensors")
        try model.write(bytes.prefix(bytes.count / 2), to: "model.safetensors")
        guard case let .tensorOutOfBounds(file, tensor, _, end, available)? = loadError(model) else {
            Issue.record("expected tensorOutOfBounds, got \(String(describing: loadError(model)))")
            return
        }
        #expect(file == model.weightsPath && !tensor.isEmpty && end > available)
        #expect("\(loadError(model)!)".contains("truncated"))
    }

    @Test func truncatedBeforeTheHeaderLength() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.write(Data([1, 2, 3]), to: "model.safetensors")
        #expect(loadError(model) == .fileTooSmall(file: model.weightsPath, size: 3))
    }

    @Test func headerLengthPastTheEnd() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        let (header, data) = try model.splitWeights()
        try model.writeWeights(rawHeader: JSONSerialization.data(withJSONObject: header), data: data, claimedLength: 1 << 40)
        guard case let .headerLengthOutOfBounds(file, length, _)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(file == model.weightsPath && length == 1 << 40)
    }

    @Test func headerThatIsNotJSON() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.writeWeights(rawHeader: Data("{\"a\": [1, 2".utf8), data: Data(count: 16))
        guard case let .headerNotJSON(file, _)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(file == model.weightsPath)
    }

    @Test func unknownDType() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        var (header, data) = try model.splitWeights()
        var entry = header["model.norm.weight"] as! [String: Any]
        entry["dtype"] = "Q9_K"
        header["model.norm.weight"] = entry
        try model.writeWeights(header: header, data: data)
        #expect(loadError(model) == .unknownDType(file: model.weightsPath, tensor: "model.norm.weight", dtype: "Q9_K"))
    }

    @Test func knownDTypePeregrineCannotUse() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        var (header, data) = try model.splitWeights()
        var entry = header["model.norm.weight"] as! [String: Any]
        entry["dtype"] = "I16"   // same size as BF16, so the byte range stays consistent
        header["model.norm.weight"] = entry
        try model.writeWeights(header: header, data: data)
        #expect(loadError(model) == .unsupportedDType(file: model.weightsPath, tensor: "model.norm.weight", dtype: "I16"))
    }

    @Test func tensorByteRangeOutOfBounds() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        var (header, data) = try model.splitWeights()
        var entry = header["model.norm.weight"] as! [String: Any]
        entry["data_offsets"] = [data.count - 64, data.count + 64]
        header["model.norm.weight"] = entry
        try model.writeWeights(header: header, data: data)
        #expect(loadError(model) == .tensorOutOfBounds(file: model.weightsPath, tensor: "model.norm.weight",
                                                       begin: data.count - 64, end: data.count + 64, available: data.count))
    }

    @Test func tensorBytesDisagreeWithItsShape() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        var (header, data) = try model.splitWeights()
        var entry = header["model.norm.weight"] as! [String: Any]
        entry["shape"] = [65]
        header["model.norm.weight"] = entry
        try model.writeWeights(header: header, data: data)
        guard case let .tensorSizeMismatch(_, tensor, shape, _, _)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(tensor == "model.norm.weight" && shape == [65])
    }

    @Test func tensorShapeDisagreesWithTheConfig() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        var (header, data) = try model.splitWeights()
        var entry = header["model.layers.1.self_attn.q_proj.weight"] as! [String: Any]
        entry["shape"] = [32, 128]   // same bytes as [64, 64]
        header["model.layers.1.self_attn.q_proj.weight"] = entry
        try model.writeWeights(header: header, data: data)
        #expect(loadError(model) == .shapeMismatch(file: model.weightsPath, tensor: "model.layers.1.self_attn.q_proj.weight",
                                                   expected: [64, 64], actual: [32, 128]))
    }

    @Test func missingTensor() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        var (header, data) = try model.splitWeights()
        header.removeValue(forKey: "model.layers.0.mlp.down_proj.weight")
        try model.writeWeights(header: header, data: data)
        guard case let .missingTensor(tensor, searched)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(tensor == "model.layers.0.mlp.down_proj.weight" && searched.contains(model.directory))
    }

    @Test func missingTensorInAShard() throws {
        let model = try ScratchModel(copying: "tiny-llama-sharded")
        defer { model.remove() }
        let shard = try model.read("model-00002-of-00002.safetensors")
        let length = Int(shard.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: shard.subdata(in: 8..<(8 + length))) as! [String: Any]
        header.removeValue(forKey: "model.norm.weight")
        var newLength = UInt64(try JSONSerialization.data(withJSONObject: header).count)
        var file = Data(bytes: &newLength, count: 8)
        file.append(try JSONSerialization.data(withJSONObject: header))
        file.append(shard.subdata(in: (8 + length)..<shard.count))
        try model.write(file, to: "model-00002-of-00002.safetensors")
        guard case let .missingTensor(tensor, searched)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(tensor == "model.norm.weight" && searched.contains("model-00002-of-00002.safetensors"))
    }

    @Test func configWithoutHiddenSize() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.editConfig { $0.removeValue(forKey: "hidden_size") }
        #expect(loadError(model) == .missingConfigKey(file: model.directory + "/config.json", key: "hidden_size"))
        #expect("\(loadError(model)!)".contains("hidden_size"))
    }

    @Test func configWithAWrongType() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.editConfig { $0["num_attention_heads"] = "four" }
        guard case let .invalidConfig(_, key, _)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(key == "num_attention_heads")
    }

    @Test func unsupportedArchitectureIsNamed() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.editConfig { $0["architectures"] = ["GPTNeoXForCausalLM"] }
        #expect(loadError(model) == .unsupportedArchitecture(file: model.directory + "/config.json", name: "GPTNeoXForCausalLM"))
        #expect("\(loadError(model)!)".contains("GPTNeoXForCausalLM"))
    }

    @Test func unsupportedRopeTypeIsNamed() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.editConfig { $0["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0] }
        guard case let .invalidConfig(_, key, reason)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(key == "rope_scaling.rope_type" && reason.contains("yarn"))
    }

    @Test func headsThatDoNotDivide() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.editConfig { $0["num_key_value_heads"] = 3 }
        guard case let .invalidConfig(_, key, _)? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
        #expect(key == "num_key_value_heads")
    }

    @Test func configThatIsNotJSON() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.write(Data("not json".utf8), to: "config.json")
        guard case .invalidConfig? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
    }

    @Test func folderWithoutWeights() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try FileManager.default.removeItem(atPath: model.weightsPath)
        guard case .notAModel? = loadError(model) else {
            Issue.record("got \(String(describing: loadError(model)))")
            return
        }
    }

    @Test func pathThatDoesNotExist() {
        #expect(throws: ModelLoadError.cannotOpen(file: "/nonexistent/model", reason: "no such file or directory")) {
            try ModelLoader.load(path: "/nonexistent/model", backend: backend)
        }
    }

    /// Random damage to the header bytes: every variant loads or throws, none crashes.
    @Test func randomlyCorruptedHeadersNeverCrash() throws {
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        let original = try model.read("model.safetensors")
        let length = Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<(8 + length), using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            try model.write(bytes, to: "model.safetensors")
            do { _ = try ModelLoader.load(path: model.directory, backend: backend) } catch is ModelLoadError {} catch {
                Issue.record("unexpected error type \(type(of: error)): \(error)")
            }
        }
    }
}
