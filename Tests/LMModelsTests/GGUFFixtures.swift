import Foundation
import LMModels
import LMTensor

/// Tiny GGUF files made from the safetensors fixtures, the way llama.cpp's converter writes
/// them (names mapped, `llama` Q/K rows permuted for adjacent-pair RoPE), in F32.
enum GGUFFixtures {
    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "peregrine-\(name)-\(UUID().uuidString).gguf"
    }

    /// `convert_hf_to_gguf.py`'s `LlamaModel.permute`: rows of each head reordered so the two
    /// RoPE halves interleave.
    static func permute(_ values: [Float], rows: Int, columns: Int, heads: Int) -> [Float] {
        let perHead = rows / heads, half = perHead / 2
        var out = values
        for h in 0..<heads {
            for i in 0..<half {
                for pair in 0..<2 {
                    let source = h * perHead + pair * half + i, target = h * perHead + 2 * i + pair
                    out.replaceSubrange((target * columns)..<((target + 1) * columns), with: values[(source * columns)..<((source + 1) * columns)])
                }
            }
        }
        return out
    }

    static func floats(_ tensor: HostTensor) -> [Float] {
        (0..<tensor.shape.elementCount).map { i in
            let bits = tensor.bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
            return Float(bitPattern: UInt32(bits) << 16)
        }
    }

    /// A GGUF writer holding fixture `model` (a tiny-* folder) as architecture `arch`.
    static func writer(model: String, arch: String) throws -> GGUFWriter {
        let directory = Fixtures.model(model)
        let spec = try ModelLoader.inspect(path: directory).1
        let file = try SafetensorsFile(path: directory + "/model.safetensors")
        var writer = GGUFWriter()
        writer.set("general.architecture", .string(arch))
        writer.set("general.name", .string(model))
        writer.set(arch + ".block_count", .u32(UInt32(spec.layerCount)))
        writer.set(arch + ".context_length", .u32(UInt32(spec.maxPositions)))
        writer.set(arch + ".embedding_length", .u32(UInt32(spec.hiddenSize)))
        writer.set(arch + ".feed_forward_length", .u32(UInt32(spec.intermediateSize)))
        writer.set(arch + ".attention.head_count", .u32(UInt32(spec.headCount)))
        writer.set(arch + ".attention.head_count_kv", .u32(UInt32(spec.kvHeadCount)))
        writer.set(arch + ".attention.key_length", .u32(UInt32(spec.headDim)))
        writer.set(arch + ".rope.freq_base", .f32(Float(spec.rope.theta)))
        writer.set(arch + ".attention.layer_norm_rms_epsilon", .f32(spec.rmsNormEpsilon))
        if arch == "gemma3" {
            writer.set("gemma3.attention.sliding_window", .u32(UInt32(spec.slidingWindows.compactMap { $0 }.first ?? 0)))
            writer.set("gemma3.attention.sliding_window_pattern", .bools(spec.slidingWindows.map { $0 != nil }))
            writer.set("gemma3.rope.freq_base_swa", .f32(Float(spec.localRope!.theta)))
            writer.set("gemma3.attention.scale", .f32(spec.attentionScale))
        }
        writer.set("tokenizer.ggml.bos_token_id", .u32(0))
        writer.set("tokenizer.ggml.eos_token_id", .u32(1))
        let names: [(String, String)] = [
            ("model.embed_tokens.weight", "token_embd.weight"), ("model.norm.weight", "output_norm.weight"), ("lm_head.weight", "output.weight"),
        ]
        let layerNames: [(String, String)] = [
            ("input_layernorm.weight", "attn_norm.weight"), ("post_attention_layernorm.weight", "ffn_norm.weight"),
            ("self_attn.q_proj.weight", "attn_q.weight"), ("self_attn.k_proj.weight", "attn_k.weight"),
            ("self_attn.v_proj.weight", "attn_v.weight"), ("self_attn.o_proj.weight", "attn_output.weight"),
            ("self_attn.q_proj.bias", "attn_q.bias"), ("self_attn.k_proj.bias", "attn_k.bias"), ("self_attn.v_proj.bias", "attn_v.bias"),
            ("self_attn.q_norm.weight", "attn_q_norm.weight"), ("self_attn.k_norm.weight", "attn_k_norm.weight"),
            ("mlp.gate_proj.weight", "ffn_gate.weight"), ("mlp.up_proj.weight", "ffn_up.weight"), ("mlp.down_proj.weight", "ffn_down.weight"),
        ] + (arch == "gemma3" ? [
            ("pre_feedforward_layernorm.weight", "ffn_norm.weight"), ("post_attention_layernorm.weight", "post_attention_norm.weight"),
            ("post_feedforward_layernorm.weight", "post_ffw_norm.weight"),
        ] : [])
        var mapping = names
        for layer in 0..<spec.layerCount {
            mapping += layerNames.map { ("model.layers.\(layer)." + $0.0, "blk.\(layer)." + $0.1) }
        }
        // Gemma: llama.cpp's converter stores 1 + w for every RMSNorm weight.
        let normShift: Float = arch == "gemma3" ? 1 : 0
        for (hf, gguf) in mapping where file.entries[hf] != nil && !(arch == "gemma3" && hf.hasSuffix("post_attention_layernorm.weight") && gguf.hasSuffix(".ffn_norm.weight")) {
            let tensor = try file.tensor(hf)
            var values = floats(tensor)
            let shape = tensor.shape.dims
            if arch == "llama" && (hf.hasSuffix("q_proj.weight") || hf.hasSuffix("k_proj.weight")) {
                let heads = hf.hasSuffix("q_proj.weight") ? spec.headCount : spec.kvHeadCount
                values = permute(values, rows: shape[0], columns: shape[1], heads: heads)
            }
            if hf.hasSuffix("norm.weight") { values = values.map { $0 + normShift } }
            writer.addF32(gguf, shape: shape, values: values)
        }
        return writer
    }
}
