#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Hugging Face architecture the shared decoder runs: how to read its config.json and what its
/// tensors are called. One conforming type per architecture file.
public protocol DecoderArchitecture: Sendable {
    /// `architectures` entries of config.json this type loads (e.g. "LlamaForCausalLM").
    static var names: [String] { get }
    /// `model_type` values, used when `architectures` is absent.
    static var modelTypes: [String] { get }
    /// Decodes config.json (`file` names it in errors).
    static func spec(config: Data, file: String) throws(ModelLoadError) -> DecoderSpec
    /// Tensor names in the checkpoint.
    static var tensorNames: TensorNames { get }
}

extension DecoderArchitecture {
    public static var tensorNames: TensorNames { .huggingFace }
}

/// Names of a decoder's tensors. `{L}` stands for the layer index and `{E}` for the expert index;
/// projection names get ".weight" / ".bias" appended.
public struct TensorNames: Sendable {
    public var embedding: String
    public var finalNorm: String
    public var lmHead: String
    public var inputNorm: String
    /// The norm before the MLP (Llama's `post_attention_layernorm`, GGUF `ffn_norm`).
    public var feedForwardNorm: String
    public var query: String
    public var key: String
    public var value: String
    public var output: String
    public var queryNorm: String
    public var keyNorm: String
    /// Norms of the attention and MLP outputs (Gemma 2/3 only).
    public var attentionOutputNorm: String = "model.layers.{L}.post_attention_layernorm.weight"
    public var feedForwardOutputNorm: String = "model.layers.{L}.post_feedforward_layernorm.weight"
    public var gate: String
    public var up: String
    public var down: String
    public var router: String
    public var expertGate: String
    public var expertUp: String
    public var expertDown: String

    /// Hugging Face Llama naming (also Mistral, Qwen2, Qwen3).
    public static let huggingFace = TensorNames(
        embedding: "model.embed_tokens.weight",
        finalNorm: "model.norm.weight",
        lmHead: "lm_head.weight",
        inputNorm: "model.layers.{L}.input_layernorm.weight",
        feedForwardNorm: "model.layers.{L}.post_attention_layernorm.weight",
        query: "model.layers.{L}.self_attn.q_proj",
        key: "model.layers.{L}.self_attn.k_proj",
        value: "model.layers.{L}.self_attn.v_proj",
        output: "model.layers.{L}.self_attn.o_proj",
        queryNorm: "model.layers.{L}.self_attn.q_norm.weight",
        keyNorm: "model.layers.{L}.self_attn.k_norm.weight",
        gate: "model.layers.{L}.mlp.gate_proj",
        up: "model.layers.{L}.mlp.up_proj",
        down: "model.layers.{L}.mlp.down_proj",
        router: "model.layers.{L}.mlp.gate.weight",
        expertGate: "model.layers.{L}.mlp.experts.{E}.gate_proj.weight",
        expertUp: "model.layers.{L}.mlp.experts.{E}.up_proj.weight",
        expertDown: "model.layers.{L}.mlp.experts.{E}.down_proj.weight")

    /// `template` with `{L}` (and `{E}`) filled in.
    public func resolve(_ template: String, layer: Int, expert: Int? = nil) -> String {
        var name = template.replacing("{L}", with: String(layer))
        if let expert { name = name.replacing("{E}", with: String(expert)) }
        return name
    }
}
