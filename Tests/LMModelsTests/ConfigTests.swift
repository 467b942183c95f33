import Foundation
import LMModels
import LMTensor
import Testing

@Suite struct ConfigTests {
    private func spec(_ edit: (inout [String: Any]) -> Void, base: String = "tiny-llama") throws -> DecoderSpec {
        let model = try ScratchModel(copying: base)
        defer { model.remove() }
        try model.editConfig(edit)
        return try ModelLoader.inspect(path: model.directory).1
    }

    @Test func fixtureSpecsReadAsTransformersDoes() throws {
        let qwen3 = try ModelLoader.inspect(path: Fixtures.model("tiny-qwen3")).1
        #expect(qwen3.headDim == 32 && qwen3.queryWidth == 128 && qwen3.qkNorm && !qwen3.qkvBias)
        let qwen2 = try ModelLoader.inspect(path: Fixtures.model("tiny-qwen2")).1
        #expect(qwen2.qkvBias && !qwen2.outputBias && qwen2.tiedEmbeddings && qwen2.rmsNormEpsilon == 1e-6)
        let mistral = try ModelLoader.inspect(path: Fixtures.model("tiny-mistral")).1
        #expect(mistral.slidingWindows == [16, 16])
        let mixtral = try ModelLoader.inspect(path: Fixtures.model("tiny-mixtral")).1
        #expect(mixtral.experts == ExpertSpec(count: 4, topK: 2, intermediateSize: 128, renormalize: true) && mixtral.headDim == 16)
        let llama3 = try ModelLoader.inspect(path: Fixtures.model("tiny-llama3-rope")).1
        #expect(llama3.rope.scaling == .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 64))
        #expect(llama3.rope.theta == 500_000 && llama3.eosTokenIDs == [1] && llama3.bosTokenID == 0)
    }

    @Test func qwenSlidesOnlyFromMaxWindowLayers() throws {
        let spec = try spec({
            $0.removeValue(forKey: "layer_types")
            $0["use_sliding_window"] = true
            $0["max_window_layers"] = 1
            $0["sliding_window"] = 8
        }, base: "tiny-qwen2")
        #expect(spec.slidingWindows == [nil, 8])
        let off = try self.spec({ $0.removeValue(forKey: "layer_types"); $0["sliding_window"] = 8 }, base: "tiny-qwen2")
        #expect(off.slidingWindows == [nil, nil])
        let listed = try self.spec({ $0["layer_types"] = ["sliding_attention", "full_attention"]; $0["sliding_window"] = 4 }, base: "tiny-qwen3")
        #expect(listed.slidingWindows == [4, nil])
    }

    @Test func legacyAndNewRopeSpellings() throws {
        let linear = try spec { $0["rope_scaling"] = ["type": "linear", "factor": 2.0]; $0.removeValue(forKey: "rope_parameters") }
        #expect(linear.rope.scaling == .linear(factor: 2))
        #expect(linear.rope.inverseFrequencies() == RopeSpec(theta: 10_000, rotaryDim: 16).inverseFrequencies().map { $0 / 2 })
        let onlyParameters = try spec {
            $0.removeValue(forKey: "rope_scaling")
            $0.removeValue(forKey: "rope_theta")
            $0["rope_parameters"] = ["rope_type": "default", "rope_theta": 1234.0]
        }
        #expect(onlyParameters.rope.theta == 1234 && onlyParameters.rope.scaling == .none)
        let defaults = try spec {
            for key in ["rope_scaling", "rope_theta", "rope_parameters", "num_key_value_heads", "head_dim", "rms_norm_eps"] { $0.removeValue(forKey: key) }
        }
        #expect(defaults.rope.theta == 10_000 && defaults.kvHeadCount == 4 && defaults.headDim == 16 && defaults.rmsNormEpsilon == 1e-6)
    }

    @Test func llama3FrequenciesKeepDivideAndSmooth() {
        let plain = RopeSpec(theta: 500_000, rotaryDim: 16).inverseFrequencies()
        let scaled = RopeSpec(theta: 500_000, scaling: .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 64),
                              rotaryDim: 16).inverseFrequencies()
        #expect(scaled.first == plain.first)                  // short wavelengths kept
        #expect(scaled.last == plain.last! / 8)               // long wavelengths divided by the factor
        #expect(zip(scaled, plain).contains { $0 < $1 && $0 > $1 / 8 })  // some band smoothed in between
    }

    @Test func eosListsAndGenerationConfig() throws {
        let listed = try spec { $0["eos_token_id"] = [1, 4] }
        #expect(listed.eosTokenIDs == [1, 4])
        let model = try ScratchModel(copying: "tiny-llama")
        defer { model.remove() }
        try model.write(Data(#"{"eos_token_id": [4, 7], "temperature": 0.6}"#.utf8), to: "generation_config.json")
        let generation = try GenerationConfig.load(directory: model.directory)
        #expect(generation?.eosTokenID == TokenIDList([4, 7]) && generation?.temperature == 0.6)
    }

    @Test func activationOtherThanSiluIsRefused() {
        #expect(throws: ModelLoadError.self) { try spec { $0["hidden_act"] = "gelu" } }
    }
}
