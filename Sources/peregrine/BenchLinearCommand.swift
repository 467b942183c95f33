import Foundation
import ArgumentParser
import LMCPU
import LMCUDA

struct BenchLinearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "Speed of the CUDA linear layers at Llama-3-8B's shapes and decode batch sizes against the measured copy ceiling.",
        discussion: """
            Each row is one x[T, K] · W[N, K]ᵀ in bf16 as the models run it (our GEMV up to 8 tokens, cuBLASLt's \
            heuristic choice beyond), weights rotated over 1 GiB of copies so they stream from memory. GB/s \
            counts the weight bytes. PEREGRINE_CUDA_GEMM_AUTOTUNE=1 times cuBLASLt's candidates per shape \
            instead; PEREGRINE_CUDA_GEMV=0 runs cuBLASLt for every size.
            """)

    @Option(help: "Token counts (rows of x), comma-separated.")
    var tokens: String = "1,8,16,32,64,128"

    @Option(help: "Calls timed per row.")
    var calls: Int = 50

    @OptionGroup var backendOptions: BackendOptions

    /// Llama-3-8B's linears: q/k/v and gate/up as the packed matrices the models run.
    static let shapes: [(name: String, n: Int, k: Int)] = [
        ("q/k/v", 6144, 4096), ("o", 4096, 4096), ("gate/up", 28672, 4096), ("down", 4096, 14336), ("lm head", 128256, 4096),
    ]

    func validate() throws {
        guard let counts = tokenCounts(), !counts.isEmpty, counts.allSatisfy({ $0 > 0 && $0 <= 8192 }) else {
            throw ValidationError("--tokens must be positive integers up to 8192 separated by commas, got \"\(tokens)\"")
        }
        guard calls > 0 else { throw ValidationError("--calls must be positive") }
    }

    private func tokenCounts() -> [Int]? {
        let parts = tokens.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(nil) ? nil : parts.compactMap { $0 }
    }

    func run() throws {
        guard let cuda = try backendOptions.makeBackend() as? CUDABackend else {
            throw CLIError("bench linear measures the CUDA backend: run it with --device cuda on a machine with a GPU")
        }
        print("device: \(cuda.name) on \(CPUInfo.modelName)")
        let ceiling = try CUDABandwidth.measure(cuda.device)
        let copyRate = max(ceiling.memcpy, ceiling.kernel)
        print("copy ceiling (2 GiB device-to-device, read + written): \(format(copyRate / 1e9, decimals: 0)) GB/s\n")
        var table = TextTable(header: ["linear", "T", "path", "µs", "weights GB/s", "of copy", "TFLOP/s"])
        for shape in Self.shapes {
            for count in tokenCounts() ?? [] {
                let seconds = try LinearBenchmark.seconds(cuda, tokens: count, n: shape.n, k: shape.k, calls: calls)
                let bytes = Double(shape.n * shape.k * 2)
                table.rows.append([
                    "\(shape.name) N\(shape.n) K\(shape.k)", "\(count)", LinearBenchmark.path(cuda, tokens: count, n: shape.n, k: shape.k),
                    format(seconds * 1e6, decimals: 1), format(bytes / seconds / 1e9, decimals: 0),
                    format(100 * bytes / seconds / copyRate, decimals: 0) + "%",
                    format(2 * Double(count * shape.n * shape.k) / seconds / 1e12, decimals: 1),
                ])
            }
        }
        print(table.render())
    }
}
