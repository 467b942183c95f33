import ArgumentParser
import Foundation
import LMCPU
import LMCUDA
import LMEngine
import LMModels
import LMTensor

/// Options that choose and size the compute backend (the composition root picks backends).
struct BackendOptions: ParsableArguments {
    @Option(help: "Where the model runs: auto (a GPU when one is usable, else the CPU), cpu or cuda.")
    var device = "auto"

    @Option(help: "Fraction of the GPU's memory Peregrine may use (weights, activations and KV cache).")
    var gpuMemoryUtilization = 0.9

    @Option(help: "GiB for the KV cache (default: on a GPU, what --gpu-memory-utilization leaves after the weights; on the CPU, 1).")
    var kvCacheMemory: Double?

    @Flag(help: "On a GPU, launch every op of every step (no CUDA graphs for decode steps).")
    var enforceEager = false

    @Option(help: "CPU threads (default: all online CPUs).")
    var threads: Int?

    @Option(help: "CPU kernel instruction set: portable, avx2 or avx512 (default: the best this CPU supports).")
    var cpuIsa: String?

    func validate() throws {
        guard ["auto", "cpu", "cuda"].contains(device) else { throw ValidationError("--device must be auto, cpu or cuda, got \(device)") }
        guard gpuMemoryUtilization > 0, gpuMemoryUtilization <= 1 else {
            throw ValidationError("--gpu-memory-utilization must be in (0, 1], got \(gpuMemoryUtilization)")
        }
        if let kvCacheMemory, !(kvCacheMemory > 0 && kvCacheMemory.isFinite) {
            throw ValidationError("--kv-cache-memory must be a positive number of GiB")
        }
        if let threads, threads < 1 || threads > 1024 {
            throw ValidationError("--threads must be between 1 and 1024, got \(threads)")
        }
        if let cpuIsa, !CPUInstructionSet.allCases.contains(where: { $0.description == cpuIsa }) {
            throw ValidationError("--cpu-isa must be one of portable, avx2, avx512, got \(cpuIsa)")
        }
    }

    func makeCPUBackend() throws -> CPUBackend {
        try CPUBackend(threads: threads, isa: cpuIsa.flatMap { name in CPUInstructionSet.allCases.first { $0.description == name } })
    }

    /// The backend `--device` asks for. `auto` takes the GPU when the CUDA driver, a GPU, NVRTC
    /// and cuBLASLt are all there, and otherwise the CPU (saying why on stderr when a driver was
    /// found but something else was missing).
    func makeBackend() throws -> any Backend {
        switch device {
        case "cpu":
            return try makeCPUBackend()
        case "cuda":
            return try makeCUDABackend()
        default:
            do {
                return try makeCUDABackend()
            } catch CUDAError.libraryNotFound(let library, _) where library.contains("driver") {
                return try makeCPUBackend()
            } catch {
                FileHandle.standardError.write(Data("peregrine: not using the GPU: \(error)\n".utf8))
                return try makeCPUBackend()
            }
        }
    }

    /// Bytes for the engine's KV cache once the model is loaded: `--kv-cache-memory`, else on a
    /// GPU the part of `--gpu-memory-utilization` × total left after the weights and the largest
    /// step `scheduler` can plan (run once here, so its scratch is held), less a 256 MiB margin
    /// for CUDA graphs and decode partials; on the CPU 1 GiB.
    func kvCacheBytes(for model: DecoderModel, scheduler: SchedulerConfig) throws -> Int {
        if let kvCacheMemory { return Int(kvCacheMemory * Double(1 << 30)) }
        guard let cuda = model.backend as? CUDABackend else { return 1 << 30 }
        try model.runPeakStep(tokens: scheduler.maxNumBatchedTokens, logitRows: min(scheduler.maxNumSeqs, scheduler.maxNumBatchedTokens),
                              maxSequenceLength: min(scheduler.maxModelLen, model.spec.maxPositions))
        let (free, total) = try cuda.device.memoryInfo()
        let budget = Int(gpuMemoryUtilization * Double(total)) - (total - free) - (256 << 20)
        guard budget > 64 << 20 else {
            throw CLIError("no GPU memory left for the KV cache (\(free >> 20) MiB free of \(total >> 20) MiB after the weights and the largest step); raise --gpu-memory-utilization or pass --kv-cache-memory")
        }
        return budget
    }

    /// Refuses what a backend cannot run yet, before any request reaches it.
    static func checkSupported(_ spec: DecoderSpec, on backend: any Backend) throws {
        if backend is CUDABackend, spec.headDim > 256 {
            throw CLIError("head dimension \(spec.headDim) is over the CUDA attention kernel's 256; use --device cpu")
        }
    }

    private func makeCUDABackend() throws -> CUDABackend {
        // The device first: without a driver this fails before anything else is built.
        let device = try CUDADevice(environment: ProcessInfo.processInfo.environment)
        let cpu = try CPUBackend(threads: threads ?? 1)   // its dequantizers load quantized checkpoints
        return try CUDABackend(device: device, dequantize: { cpu.dequantize($0) }, recordSteps: !enforceEager)
    }
}
