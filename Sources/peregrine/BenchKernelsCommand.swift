import ArgumentParser
import LMCPU
import LMModels
import LMTensor

struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Speed of the CPU kernels at SmolLM2-135M's shapes against the measured bandwidth and FMA ceilings.",
        discussion: "Decode-shaped linears (1 token) report the bandwidth of the packed weights they stream; GEMMs (128 tokens) report f32 FLOP/s.")

    @Option(help: "Seconds to spend on each kernel.")
    var seconds: Double = 0.5

    @OptionGroup var backendOptions: BackendOptions

    func run() throws {
        let backend = try backendOptions.makeCPUBackend()
        print("device: \(backend.name) on \(CPUInfo.modelName)")
        let bandwidth = MemoryBandwidth.measure(backend: backend).readBytesPerSecond
        let flops = ComputeCeiling.measure(backend: backend)
        print("ceilings (measured): read \(format(bandwidth / 1e9, decimals: 1)) GB/s, f32 FMA \(format(flops / 1e9, decimals: 0)) GFLOP/s\n")

        var table = TextTable(header: ["kernel", "shape", "time", "achieved", "of ceiling"])
        func row(_ name: String, _ shape: String, _ time: Double, bytes: Double? = nil, flop: Double? = nil) {
            if let bytes {
                table.rows.append([name, shape, formatTime(time), format(bytes / time / 1e9, decimals: 1) + " GB/s",
                                   format(100 * bytes / time / bandwidth, decimals: 0) + "% BW"])
            } else if let flop {
                table.rows.append([name, shape, formatTime(time), format(flop / time / 1e9, decimals: 1) + " GFLOP/s",
                                   format(100 * flop / time / flops, decimals: 0) + "% FMA"])
            }
        }

        for dtype in [DType.q4_1, .q8_0, .q4K, .q6K, .bf16, .f32] {
            // K-quants need rows of whole 256-value blocks: 1536 and 512 stand in for 576.
            let shapes = dtype.elementsPerBlock == 256 ? [(1536, 512), (512, 1536)] : [(1536, 576), (576, 1536), (49152, 576)]
            for (n, k) in shapes {
                // Distinct weight copies totalling 1 GiB so decode reads come from memory, not cache.
                let copies = max(1, (1 << 30) / dtype.byteCount(elements: n * k))
                let weights = try (0..<copies).map { _ in try random(backend, Shape(n, k), dtype) }
                for tokens in [1, 128] {
                    let x = try random(backend, Shape(tokens, k), .f32), y = try backend.allocate(Shape(tokens, n), dtype: .f32)
                    var next = 0
                    let time = timeIt { backend.linear(x, weight: weights[next % copies], bias: nil, out: y); next += 1 }
                    if tokens == 1 {
                        row("linear \(dtype)", "1x\(k) · \(n)x\(k)ᵀ", time, bytes: Double(dtype.byteCount(elements: n * k)))
                    } else {
                        row("linear \(dtype)", "\(tokens)x\(k) · \(n)x\(k)ᵀ", time, flop: 2 * Double(tokens * n * k))
                    }
                }
            }
        }

        // Attention at SmolLM2's heads: 9 query heads, 3 KV heads, head dim 64.
        let heads = 9, kvHeads = 3, dim = 64, blockSize = 16
        for (queries, context) in [(1, 1024), (1, 4096), (512, 512)] {
            let blocks = (context + blockSize - 1) / blockSize
            let layout = KVCacheLayout(layerCount: 1, blockCount: blocks, blockSize: blockSize, kvHeads: kvHeads, headDim: dim, dtype: .f32)
            let cache = LayerKVCache(key: try random(backend, layout.layerShape, .f32), value: try random(backend, layout.layerShape, .f32))
            let q = try random(backend, Shape(queries, heads, dim), .f32), out = try backend.allocate(Shape(queries, heads, dim), dtype: .f32)
            let span = SequenceSpan(queryStart: 0, queryCount: queries, contextLength: context, blockTable: (0..<Int32(blocks)).shuffled())
            let batch = AttentionBatch(sequences: [span], slotMapping: Array(repeating: 0, count: queries), blockSize: blockSize)
            let time = timeIt { backend.attention(query: q, cache: cache, batch: batch, scale: 0.125, slidingWindow: nil, out: out) }
            if queries == 1 {
                row("attention decode", "9/3 heads x64, ctx \(context)", time, bytes: Double(2 * context * kvHeads * dim * 4))
            } else {
                let pairs = Double(queries * (queries + 1) / 2)
                row("attention prefill", "9/3 heads x64, \(queries) causal", time, flop: 4 * pairs * Double(heads * dim))
            }
        }

        let x = try random(backend, Shape(128, 576), .f32), w = try random(backend, Shape(576), .f32)
        let normed = try backend.allocate(Shape(128, 576), dtype: .f32)
        let time = timeIt { backend.rmsNorm(x, weight: w, epsilon: 1e-5, out: normed) }
        row("rmsNorm", "128x576", time, bytes: Double(2 * 128 * 576 * 4))
        print(table.render())
    }

    /// Mean seconds per call after a warm-up, over about `seconds`.
    private func timeIt(_ body: () -> Void) -> Double {
        body()
        var calls = 0
        let start = monotonicSeconds()
        repeat {
            body()
            calls += 1
        } while monotonicSeconds() - start < seconds
        return (monotonicSeconds() - start) / Double(calls)
    }

    private func random(_ backend: CPUBackend, _ shape: Shape, _ dtype: DType) throws -> Tensor {
        let source = dtype.isQuantized ? RandomWeights.randomQuantizedHostTensor(name: "bench\(shape)", shape: shape, dtype: dtype)
            : RandomWeights.randomHostTensor(name: "bench\(shape)", shape: shape, dtype: dtype)
        let tensor = try backend.allocate(shape, dtype: dtype)
        backend.copy(from: source, to: tensor)
        return tensor
    }

    private func formatTime(_ seconds: Double) -> String {
        seconds < 1e-3 ? format(seconds * 1e6, decimals: 1) + " µs" : format(seconds * 1e3, decimals: 2) + " ms"
    }
}
