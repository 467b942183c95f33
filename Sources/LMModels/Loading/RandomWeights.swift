import LMTensor

/// Random weights with the shapes a spec implies, for benchmarks of real model shapes without
/// downloading a checkpoint. Values are deterministic per tensor name: matrices uniform in
/// ±`scale`, norm weights near 1, so activations stay finite through any depth.
public final class RandomWeights: WeightSource, @unchecked Sendable {
    public let spec: DecoderSpec
    public let names: TensorNames
    public let dtype: DType
    private let shapes: [String: [Int]]

    public init(spec: DecoderSpec, names: TensorNames = .huggingFace, dtype: DType = .bf16) {
        precondition(dtype == .bf16 || dtype == .f16 || dtype == .f32, "random weights are float")
        self.spec = spec
        self.names = names
        self.dtype = dtype
        shapes = Self.shapes(spec: spec, names: names)
    }

    public var description: String { "random \(dtype) weights" }
    public func contains(_ name: String) -> Bool { shapes[name] != nil }
    public func file(of name: String) -> String { description }

    public func tensor(_ name: String) throws(ModelLoadError) -> HostTensor {
        guard let dims = shapes[name] else { throw .missingTensor(tensor: name, searched: description) }
        return Self.randomHostTensor(name: name, shape: Shape(dims), dtype: dtype)
    }

    /// A host tensor of deterministic random values seeded by `name`: matrices uniform in
    /// ±1/sqrt(columns), rank-1 tensors named "*norm*" near 1, other vectors within ±0.1.
    public static func randomHostTensor(name: String, shape: Shape, dtype: DType) -> HostTensor {
        let count = shape.elementCount
        let storage = HostAllocation(byteCount: dtype.byteCount(elements: count))
        var state = name.hashValueStable | 1
        let isNorm = shape.rank == 1 && name.contains("norm")
        let scale: Float = shape.rank == 1 ? 0.1 : 1 / Float(shape.last).squareRoot()
        for i in 0..<count {
            // xorshift64*: fast, deterministic, good enough for benchmark weights.
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            let unit = Float((state &* 0x2545F4914F6CDD1D) >> 40) / Float(1 << 24) * 2 - 1
            let value = isNorm ? 1 + 0.1 * unit : scale * unit
            switch dtype {
            case .bf16: storage.pointer.storeBytes(of: UInt16(truncatingIfNeeded: value.bitPattern >> 16), toByteOffset: 2 * i, as: UInt16.self)
            case .f16: storage.pointer.storeBytes(of: Float16(value).bitPattern, toByteOffset: 2 * i, as: UInt16.self)
            default: storage.pointer.storeBytes(of: value, toByteOffset: 4 * i, as: Float.self)
            }
        }
        return HostTensor(name: name, dtype: dtype, shape: shape, bytes: storage.bytes, owner: storage)
    }

    /// Random blocks of a quantized type: random codes, with every f16 scale field set to a
    /// small normal value so the weights are finite (for kernel benchmarks).
    public static func randomQuantizedHostTensor(name: String, shape: Shape, dtype: DType) -> HostTensor {
        precondition(dtype.isQuantized, "\(dtype) is not a block type")
        let bytes = dtype.byteCount(elements: shape.elementCount)
        let storage = HostAllocation(byteCount: bytes)
        var state = name.hashValueStable | 1
        for i in 0..<bytes {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            storage.pointer.storeBytes(of: UInt8(truncatingIfNeeded: (state &* 0x2545F4914F6CDD1D) >> 56), toByteOffset: i, as: UInt8.self)
        }
        let scaleOffsets: [Int] = switch dtype {
        case .q4_1, .q5_1, .q4K, .q5K: [0, 2]
        case .q6K: [208]
        default: [0]
        }
        let half = Float16(0.01).bitPattern
        for block in 0..<(bytes / dtype.bytesPerBlock) {
            for offset in scaleOffsets {
                storage.pointer.storeBytes(of: half, toByteOffset: block * dtype.bytesPerBlock + offset, as: UInt16.self)
            }
        }
        return HostTensor(name: name, dtype: dtype, shape: shape, bytes: storage.bytes, owner: storage)
    }

    private static func shapes(spec: DecoderSpec, names: TensorNames) -> [String: [Int]] {
        let c = spec.hiddenSize, d = spec.headDim, f = spec.intermediateSize
        var shapes: [String: [Int]] = [names.embedding: [spec.vocabSize, c], names.finalNorm: [c]]
        if !spec.tiedEmbeddings { shapes[names.lmHead] = [spec.vocabSize, c] }
        for layer in 0..<spec.layerCount {
            func add(_ template: String, _ dims: [Int], suffix: String = "", bias: Bool = false) {
                shapes[names.resolve(template, layer: layer) + suffix] = dims
                if bias { shapes[names.resolve(template, layer: layer) + ".bias"] = [dims[0]] }
            }
            add(names.inputNorm, [c])
            add(names.feedForwardNorm, [c])
            if spec.sandwichNorms {
                add(names.attentionOutputNorm, [c])
                add(names.feedForwardOutputNorm, [c])
            }
            add(names.query, [spec.queryWidth, c], suffix: ".weight", bias: spec.qkvBias)
            add(names.key, [spec.kvWidth, c], suffix: ".weight", bias: spec.qkvBias)
            add(names.value, [spec.kvWidth, c], suffix: ".weight", bias: spec.qkvBias)
            add(names.output, [c, spec.queryWidth], suffix: ".weight", bias: spec.outputBias)
            if spec.qkNorm {
                add(names.queryNorm, [d])
                add(names.keyNorm, [d])
            }
            if let moe = spec.experts {
                add(names.router, [moe.count, c])
                for e in 0..<moe.count {
                    shapes[names.resolve(names.expertGate, layer: layer, expert: e)] = [moe.intermediateSize, c]
                    shapes[names.resolve(names.expertUp, layer: layer, expert: e)] = [moe.intermediateSize, c]
                    shapes[names.resolve(names.expertDown, layer: layer, expert: e)] = [c, moe.intermediateSize]
                }
            } else {
                add(names.gate, [f, c], suffix: ".weight", bias: spec.mlpBias)
                add(names.up, [f, c], suffix: ".weight", bias: spec.mlpBias)
                add(names.down, [c, f], suffix: ".weight", bias: spec.mlpBias)
            }
        }
        return shapes
    }
}

extension String {
    /// FNV-1a over the UTF-8 bytes: stable across runs, unlike `hashValue`.
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return hash
    }
}
