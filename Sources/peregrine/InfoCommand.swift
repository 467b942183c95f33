import ArgumentParser
import LMModels
import LMTensor

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a model's architecture, sizes, weight types and the memory it needs.")

    @Option(help: "A Hugging Face model folder or a GGUF file (default: the default model).")
    var model: String?

    func run() throws {
        let model = try self.model ?? DefaultModel.resolve()
        let (format, spec) = try ModelLoader.inspect(path: model)
        let weights: [String: (tensors: Int, bytes: Int)]
        var rows: [(String, String)] = [("path", model)]
        switch format {
        case .huggingFace:
            let checkpoint = try SafetensorsCheckpoint(directory: model)
            weights = checkpoint.dtypeSummary
            rows.append(("format", "Hugging Face, \(checkpoint.fileCount) safetensors file(s)"))
        case let .gguf(file):
            var summary: [String: (tensors: Int, bytes: Int)] = [:]
            for tensor in file.tensors.values {
                summary[tensor.typeName, default: (0, 0)].tensors += 1
                summary[tensor.typeName, default: (0, 0)].bytes += tensor.byteCount
            }
            weights = summary
            rows.append(("format", "GGUF version \(file.version), \(file.tensors.count) tensors"))
            if let name = file.metadata["general.name"]?.stringValue { rows.append(("name", name)) }
        }
        let weightBytes = weights.values.reduce(0) { $0 + $1.bytes }
        let kvPerToken = KVCacheLayout(layerCount: spec.layerCount, blockCount: 1, blockSize: 1, kvHeads: spec.kvHeadCount,
                                       headDim: spec.headDim, dtype: .f32).bytesPerToken
        rows += [
            ("architecture", spec.architecture),
            ("layers", "\(spec.layerCount)"),
            ("hidden size", "\(spec.hiddenSize)"),
            ("attention heads", "\(spec.headCount) query, \(spec.kvHeadCount) key/value, head dim \(spec.headDim)"),
            ("feed-forward", spec.experts.map { "\($0.count) experts of \($0.intermediateSize), top \($0.topK)" } ?? "\(spec.intermediateSize)"),
            ("vocabulary", "\(spec.vocabSize)"),
            ("context", "\(spec.maxPositions) tokens"),
            ("rope", "theta \(spec.rope.theta), \(spec.rope.style) pairs, \(describe(spec.rope.scaling))"),
            ("sliding window", spec.slidingWindows.compactMap { $0 }.first.map { "\($0) tokens" } ?? "none"),
            ("tied embeddings", spec.tiedEmbeddings ? "yes" : "no"),
            ("parameters", formatCount(spec.parameterCount)),
        ]
        for (dtype, summary) in weights.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            rows.append(("weights \(dtype)", "\(summary.tensors) tensors, \(formatBytes(summary.bytes))"))
        }
        rows.append(("memory: weights", formatBytes(weightBytes) + " (mapped from disk on the CPU, read in place)"))
        rows.append(("memory: KV cache", "\(formatBytes(kvPerToken)) per token in f32, \(formatBytes(kvPerToken * spec.maxPositions)) for the full context"))
        let width = rows.map(\.0.count).max() ?? 0
        for (key, value) in rows { print(key.padding(toLength: width) + "  " + value) }
    }

    private func describe(_ scaling: RopeSpec.Scaling) -> String {
        switch scaling {
        case .none: "no scaling"
        case let .linear(factor): "linear scaling x\(factor)"
        case let .llama3(factor, _, _, original): "llama3 scaling x\(factor) from \(original)"
        case let .frequencyFactors(factors): "\(factors.count) frequency factors"
        }
    }
}

func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : "\(format(value, decimals: 1)) \(units[unit])"
}

func formatCount(_ count: Int) -> String {
    count >= 1_000_000_000 ? "\(format(Double(count) / 1e9, decimals: 2))B"
        : count >= 1_000_000 ? "\(format(Double(count) / 1e6, decimals: 1))M"
        : count >= 1000 ? "\(format(Double(count) / 1e3, decimals: 1))K" : "\(count)"
}

/// Fixed-point formatting without Foundation's String(format:).
func format(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale), fraction = Int(rounded.truncatingRemainder(dividingBy: scale))
    let sign = value < 0 && rounded > 0 ? "-" : ""
    guard decimals > 0 else { return sign + "\(whole)" }
    let digits = String(fraction)
    return sign + "\(whole)." + String(repeating: "0", count: decimals - digits.count) + digits
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
