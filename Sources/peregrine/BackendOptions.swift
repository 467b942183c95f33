import ArgumentParser
import LMCPU
import LMTensor

/// Options that choose and size the compute backend (the composition root picks backends).
struct BackendOptions: ParsableArguments {
    @Option(help: "CPU threads (default: all online CPUs).")
    var threads: Int?

    @Option(help: "CPU kernel instruction set: portable, avx2 or avx512 (default: the best this CPU supports).")
    var cpuIsa: String?

    func validate() throws {
        if let threads, threads < 1 || threads > 1024 {
            throw ValidationError("--threads must be between 1 and 1024, got \(threads)")
        }
        if let cpuIsa, !CPUInstructionSet.allCases.contains(where: { $0.description == cpuIsa }) {
            throw ValidationError("--cpu-isa must be one of portable, avx2, avx512, got \(cpuIsa)")
        }
    }

    func makeBackend() throws -> CPUBackend {
        try CPUBackend(threads: threads, isa: cpuIsa.flatMap { name in CPUInstructionSet.allCases.first { $0.description == name } })
    }
}
