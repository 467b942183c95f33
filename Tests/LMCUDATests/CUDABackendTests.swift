import Foundation
import LMBackendConformance
import LMCPU
@testable import LMCUDA
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

/// What runs without a GPU: the kernel sources' parsed entry points and the disk cache's keys.
@Suite struct KernelSourceTests {
    @Test func sourcesListEveryKernelAndInstance() {
        let decode = KernelSource.pagedDecode.functions
        #expect(decode.contains("paged_decode_bf16") && decode.contains("paged_decode_bf16_g4_d4") && decode.contains("decode_combine_bf16"))
        #expect(!decode.contains("NAME"))
        for source in KernelSource.all {
            for function in source.functions {
                // An attribute read as a name (`void __launch_bounds__(256) NAME(`) would be launched.
                #expect(function.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" } && !function.hasPrefix("__"), "\(source.name): \(function)")
            }
        }
        #expect(KernelSource.pagedPrefill.functions.contains("paged_prefill_bf16_d128"))
        #expect(KernelSource.gemv.functions.sorted() == ["gemv_add_s1", "gemv_add_s2", "gemv_add_s4", "gemv_add_s8",
                                                         "gemv_bf16_s1", "gemv_bf16_s1_one", "gemv_bf16_s2", "gemv_bf16_s2_one", "gemv_bf16_s4", "gemv_bf16_s4_one", "gemv_bf16_s8", "gemv_bf16_s8_one",
                                                         "gemv_f32_s1", "gemv_f32_s1_one", "gemv_f32_s2", "gemv_f32_s2_one", "gemv_f32_s4", "gemv_f32_s4_one", "gemv_f32_s8", "gemv_f32_s8_one",
                                                         "gemv_gated", "gemv_gated_normed", "gemv_gated_one",
                                                         "gemv_packed_s1", "gemv_packed_s1_one", "gemv_packed_s2", "gemv_packed_s2_one", "gemv_packed_s4", "gemv_packed_s4_one", "gemv_packed_s8", "gemv_packed_s8_one",
                                                         "gemv_rope_kv_normed_s1", "gemv_rope_kv_normed_s2", "gemv_rope_kv_normed_s4",
                                                         "gemv_rope_kv_s1", "gemv_rope_kv_s1_one", "gemv_rope_kv_s2", "gemv_rope_kv_s2_one", "gemv_rope_kv_s4", "gemv_rope_kv_s4_one"])
        #expect(KernelSource.sample.functions == ["sample_rows"])
        #expect(KernelSource.tokenLogprobs.functions == ["token_logprobs"])
        #expect(KernelSource.skinnyGEMM.functions.sorted() == ["skinny_gemm_reduce", "skinny_gemm_t16", "skinny_gemm_t32", "skinny_gemm_t64", "skinny_gemm_t8"])
        #expect(KernelSource.pagedDecodeMMA.functions.sorted() == ["paged_decode_mma_d128_s2", "paged_decode_mma_d128_s3",
                                                                   "paged_decode_mma_d64_s2", "paged_decode_mma_d64_s3"])
        #expect(KernelSource.copyTokens.functions == ["copy_tokens"])
        #expect(KernelSource.rmsNorm.functions.contains("add_rms_norm_bf16"))
        for module in KernelSource.all {
            #expect(!module.functions.isEmpty, "\(module.name)")
            #expect(module.fullSource.contains("float_to_bf16"), "the prelude comes first")
        }
    }

    /// A kernel's name is the word before its parameters, whether launch bounds come as a macro
    /// or written out.
    @Test func kernelNamesSkipLaunchBounds() {
        let source = """
        extern "C" __global__ void plain(int n) {}
        extern "C" __global__ void BOUNDS capped(int n) {}
        extern "C" __global__ void __launch_bounds__(256, 2) written(int n) {}
        """
        #expect(KernelSource(name: "test", bytes: Array(source.utf8)).functions == ["plain", "capped", "written"])
    }

    /// Kernels are launched to overlap the previous one's end (programmatic dependent launch), so
    /// each must wait for it before touching memory: every `__global__` body calls
    /// begin_after_previous_kernel() itself or through a function it calls.
    @Test func everyKernelWaitsForThePreviousOne() {
        func body(after index: String.Index, in source: String) -> Substring? {
            guard let open = source[index...].firstIndex(of: "{") else { return nil }
            var depth = 0
            for position in source[open...].indices {
                if source[position] == "{" { depth += 1 }
                if source[position] == "}" { depth -= 1; if depth == 0 { return source[open...position] } }
            }
            return nil
        }
        func waits(_ text: Substring, in source: String) -> Bool {
            if text.contains("begin_after_previous_kernel();") { return true }
            // Functions it calls, as `name(` or `name<...>(`, defined in the same file.
            let callees = text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init)
            return Set(callees).contains { callee in
                guard let definition = source.range(of: "void \(callee)(") else { return false }
                return body(after: definition.upperBound, in: source).map { $0.contains("begin_after_previous_kernel();") } ?? false
            }
        }
        for module in KernelSource.all {
            var rest = module.source.startIndex
            var kernels = 0
            while let global = module.source.range(of: "__global__ void ", range: rest..<module.source.endIndex) {
                let text = body(after: global.upperBound, in: module.source)
                #expect(text.map { waits($0, in: module.source) } ?? false, "a kernel in \(module.name).cu starts without begin_after_previous_kernel()")
                kernels += 1
                rest = global.upperBound
            }
            #expect(kernels > 0, "\(module.name)")
        }
    }

    @Test func cacheKeysChangeWithSourceArchitectureAndCompiler() {
        let cache = KernelCache(directory: "/tmp/k")
        let base = cache.path(name: "m", source: "a", architecture: 90, compilerVersion: "13.0")
        #expect(base.hasPrefix("/tmp/k/m-sm90-") && base.hasSuffix(".cubin"))
        #expect(base == cache.path(name: "m", source: "a", architecture: 90, compilerVersion: "13.0"))
        #expect(base != cache.path(name: "m", source: "b", architecture: 90, compilerVersion: "13.0"))
        #expect(base != cache.path(name: "m", source: "a", architecture: 89, compilerVersion: "13.0"))
        #expect(base != cache.path(name: "m", source: "a", architecture: 90, compilerVersion: "13.1"))
    }

    @Test func cacheStoresAndLoads() {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-cache-\(getpid())/nested").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cache = KernelCache(directory: folder)
        let path = cache.path(name: "m", source: "x", architecture: 90, compilerVersion: "13.0")
        #expect(cache.load(path) == nil)
        cache.store([1, 2, 3, 255], at: path)
        #expect(cache.load(path) == [1, 2, 3, 255])
    }
}
