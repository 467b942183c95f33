import Foundation
import LMBackendConformance
import LMCPU
import LMCUDA
import LMTensor
import Testing

/// Whether this machine can run the CUDA tests (a driver and a GPU); elsewhere they skip.
let cudaDevice: CUDADevice? = try? CUDADevice(environment: ProcessInfo.processInfo.environment)

@Suite struct CUDABackendTests {
    /// Without a driver the error is one clear line naming the library and where we looked.
    @Test(.enabled(if: cudaDevice == nil)) func missingDriverIsOneClearLine() {
        do {
            _ = try CUDADevice(environment: ["PEREGRINE_CUDA_LIBS": "/nonexistent"])
            Issue.record("a device opened without a driver")
        } catch {
            let message = "\(error)"
            #expect(message.contains("libcuda.so.1") && message.contains("PEREGRINE_CUDA_LIBS") && !message.contains("\n"), "\(message)")
        }
    }

    @Test(.enabled(if: cudaDevice != nil)) func everyOpMatchesTheCPU() throws {
        let backend = try CUDABackend(device: cudaDevice!)
        var conformance = BackendConformance(reference: try CPUBackend(), candidate: backend, seed: 7)
        for result in try conformance.run() {
            #expect(result.passed, "\(result.op) \(result.shape): error \(result.relativeError), \(result.poisoned) unwritten")
        }
    }

    /// A second backend on the same cache directory compiles nothing.
    @Test(.enabled(if: cudaDevice != nil)) func secondStartCompilesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-kernels-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var environment = ProcessInfo.processInfo.environment
        environment["PEREGRINE_HOME"] = folder
        let first = try CUDABackend(environment: environment)
        #expect(first.device.compiledCount > 0)
        let second = try CUDABackend(environment: environment)
        #expect(second.device.compiledCount == 0)
    }
}

/// The conformance harness itself, on the CPU (portable kernels against the best this CPU has),
/// so CI checks the checker.
@Suite struct BackendConformanceTests {
    @Test func portableKernelsConform() throws {
        var conformance = BackendConformance(reference: try CPUBackend(threads: 2), candidate: try CPUBackend(threads: 2, isa: .portable), seed: 3)
        let results = try conformance.run()
        #expect(results.count > 20)
        for result in results {
            #expect(result.passed, "\(result.op) \(result.shape): error \(result.relativeError), \(result.poisoned) unwritten")
        }
    }
}
