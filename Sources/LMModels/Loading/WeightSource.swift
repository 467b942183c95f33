import LMTensor

/// Where a model's named tensors come from: safetensors checkpoints, GGUF files, random weights
/// for benchmarks. Names are the checkpoint's own (Hugging Face names for safetensors).
public protocol WeightSource: Sendable {
    /// What to call this source in messages (a path).
    var description: String { get }
    func contains(_ name: String) -> Bool
    /// The tensor, or `ModelLoadError.missingTensor`.
    func tensor(_ name: String) throws(ModelLoadError) -> HostTensor
    /// The file a tensor lives in, for error messages.
    func file(of name: String) -> String
}
