import ArgumentParser
import Foundation
import LMBackendConformance
import LMCPU
import LMCUDA
import LMTensor

/// `peregrine check-backend`: every op of a backend against the CPU reference on fresh random
/// inputs (like llama.cpp's test-backend-ops); exits non-zero on any failure.
struct CheckBackendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-backend",
        abstract: "Check every op of a backend against the CPU reference on random inputs.")

    @Option(help: "The backend to check: cuda, or cpu (the portable kernels against the best this CPU has).")
    var device = "cuda"

    @Option(help: "Seed for the random inputs.")
    var seed: UInt64 = 1

    func validate() throws {
        guard ["cpu", "cuda"].contains(device) else { throw ValidationError("--device must be cpu or cuda, got \(device)") }
    }

    func run() throws {
        let reference = try CPUBackend()
        let candidate: any Backend = device == "cuda"
            ? try CUDABackend(environment: ProcessInfo.processInfo.environment)
            : try CPUBackend(isa: .portable)
        var conformance = BackendConformance(reference: reference, candidate: candidate, seed: seed)
        let results = try conformance.run()
        var table = TextTable(header: ["op", "shape", "rel. error", "bound", "unwritten", "result"])
        for r in results {
            table.rows.append([r.op, r.shape, String(format: "%.2e", r.relativeError), String(format: "%.0e", r.bound), "\(r.poisoned)",
                               r.passed ? "ok" : "FAIL"])
        }
        print("\(candidate.name) against \(reference.name), seed \(seed)\n")
        print(table.render())
        let failed = results.filter { !$0.passed }.count
        print("\n\(results.count - failed) of \(results.count) passed")
        if let cuda = candidate as? CUDABackend {
            print("kernel modules compiled by NVRTC in this run: \(cuda.device.compiledCount) (0 when the disk cache had them)")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
