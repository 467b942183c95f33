import LMTensor

/// The weights of a GGUF file as a `WeightSource`. Mixture-of-experts files that store each
/// layer's experts as one 3-D tensor (`ffn_gate_exps`, [E, F, C]) also answer for the
/// per-expert names (`ffn_gate.E`) with views of that tensor, so the shared decoder loads both
/// layouts without copying.
public final class GGUFCheckpoint: WeightSource, @unchecked Sendable {
    public let file: GGUFFile

    public init(file: GGUFFile) { self.file = file }

    public var description: String { file.path }
    public func file(of name: String) -> String { file.path }

    public func contains(_ name: String) -> Bool {
        file.tensors[name] != nil || mergedExpert(name) != nil
    }

    public func tensor(_ name: String) throws(ModelLoadError) -> HostTensor {
        if file.tensors[name] != nil { return try file.tensor(name) }
        guard let (merged, expert) = mergedExpert(name) else { return try file.tensor(name) }
        let all = try file.tensor(merged)
        guard all.shape.rank == 3, expert < all.shape[0] else {
            throw .ggufInvalidTensor(file: file.path, tensor: merged, reason: "shape \(all.shape) holds no expert \(expert)")
        }
        let rows = all.shape[1], columns = all.shape[2]
        let size = all.dtype.byteCount(elements: rows * columns)
        let bytes = UnsafeRawBufferPointer(rebasing: all.bytes[(expert * size)..<((expert + 1) * size)])
        return HostTensor(name: name, dtype: all.dtype, shape: Shape(rows, columns), bytes: bytes, owner: all.owner)
    }

    /// "blk.3.ffn_up.5.weight" -> ("blk.3.ffn_up_exps.weight", 5) when the merged tensor exists.
    private func mergedExpert(_ name: String) -> (String, Int)? {
        let parts = name.split(separator: ".")
        guard parts.count == 5, parts[0] == "blk", parts[4] == "weight", let expert = Int(parts[3]) else { return nil }
        let merged = "blk.\(parts[1]).\(parts[2])_exps.weight"
        return file.tensors[merged] != nil ? (merged, expert) : nil
    }
}
