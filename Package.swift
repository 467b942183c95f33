// swift-tools-version: 6.1
import PackageDescription

// Hot CPU kernels are C with per-function target attributes (AVX-512 / AVX2+FMA / portable)
// chosen at run time; they are built optimized even in debug so tests stay fast.
let kernelCFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]

let package = Package(
    name: "Peregrine",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "peregrine", targets: ["peregrine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.21.0"),
    ],
    targets: [
        .target(name: "LMTensor"),
        .target(name: "LMCPUKernels", cSettings: kernelCFlags),
        .target(name: "LMCPU", dependencies: ["LMTensor", "LMCPUKernels"]),
        .target(name: "LMModels", dependencies: ["LMTensor"]),
        // NVIDIA GPUs: the driver, NVRTC and cuBLASLt found with dlopen at run time; kernels are
        // CUDA C++ carried in the binary and compiled on first use (cached on disk).
        .target(name: "LMCUDA", dependencies: ["LMTensor"],
                resources: ["common.cuh", "elementwise.cu", "gather_rows.cu", "rms_norm.cu", "rope.cu", "write_kv.cu",
                            "paged_decode.cu", "paged_decode_mma.cu", "paged_prefill.cu", "paged_prefill_mma.cu", "argmax.cu", "gemv.cu", "bias.cu", "copy.cu", "copy_columns.cu", "sample.cu", "edit_logits.cu", "rope_write_kv.cu", "expert_rows.cu", "copy_tokens.cu", "skinny_gemm.cu", "token_logprobs.cu"].map { .embedInCode("Kernels/" + $0) }),
        // Checks any backend's ops against a reference backend on random inputs (tests and `peregrine check-backend`).
        .target(name: "LMBackendConformance", dependencies: ["LMTensor"]),
        .target(name: "LMTokenizers"),
        .target(name: "LMEngine", dependencies: [
            "LMModels", "LMTokenizers", "LMTensor",
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The OpenAI-compatible API: wire types, validation and (next) the HTTP server.
        .target(name: "LMServer", dependencies: [
            "LMEngine", "LMModels", "LMTokenizers",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The load generator for any OpenAI-compatible server (`peregrine bench serve`) and its plots.
        .target(name: "LMBench", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .executableTarget(
            name: "peregrine",
            dependencies: [
                "LMTensor", "LMCPU", "LMModels", "LMTokenizers", "LMEngine", "LMServer", "LMBench", "LMCUDA", "LMBackendConformance",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.embedInCode("Resources/fetch_default_model.py")]
        ),
        .testTarget(name: "LMCPUTests", dependencies: ["LMCPU", "LMTensor", "LMCPUKernels"], exclude: ["Vectors"]),
        .testTarget(name: "LMCUDATests", dependencies: ["LMCUDA", "LMCPU", "LMTensor", "LMBackendConformance", "LMModels"]),
        .testTarget(name: "LMModelsTests", dependencies: ["LMModels", "LMCPU", "LMTensor"], exclude: ["Fixtures"]),
        .testTarget(name: "LMTokenizersTests", dependencies: ["LMTokenizers", "LMEngine", "LMModels"], exclude: ["Vectors"]),
        .testTarget(name: "LMEngineTests", dependencies: [
            "LMEngine", "LMModels", "LMCPU", "LMTensor", "LMTokenizers",
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        .testTarget(name: "LMServerTests", dependencies: [
            "LMServer", "LMEngine", "LMCPU", "LMModels", "LMTokenizers",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "LMBenchTests", dependencies: [
            "LMBench", "LMServer", "LMEngine", "LMCPU", "LMModels", "LMTokenizers",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // Runs the built `peregrine` binary as a user would.
        .testTarget(name: "PeregrineCLITests", dependencies: ["peregrine"]),
    ]
)
