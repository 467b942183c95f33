import Synchronization

/// One GPU made ready for work: the driver loaded, the device's primary context, one stream
/// every op is queued on, and kernels compiled (or read from the disk cache) on first use.
///
/// Driver calls need the context current on the calling thread; every entry point makes it so
/// (a thread-local set, cheap).
public final class CUDADevice: @unchecked Sendable {
    public let driver: CUDADriver
    public let ordinal: Int
    public let name: String
    public let computeCapability: (major: Int, minor: Int)
    public let multiprocessors: Int
    public let totalMemory: Int
    let context: CUhandle?
    let stream: CUhandle?
    let cache: KernelCache
    let environment: [String: String]
    private let compiler: Mutex<NVRTC?> = Mutex(nil)
    private let functions: Mutex<[String: LoadedFunction]> = Mutex([:])
    /// Kernels compiled by NVRTC in this process (not read from the cache); for tests and logs.
    public var compiledCount: Int { compiled.withLock { $0 } }
    private let compiled = Mutex(0)
    /// Kernels launched so they may start while the previous one finishes (programmatic
    /// dependent launch: sm_90 and later with cuLaunchKernelEx; `PEREGRINE_CUDA_PDL=0` turns it
    /// off). Every kernel calls begin_after_previous_kernel() (common.cuh) before it touches
    /// memory an earlier kernel uses, so the overlap covers only launch latency and prologues.
    public let dependentLaunch: Bool
    /// `#define` lines put before every kernel source, from `PEREGRINE_CUDA_KERNEL_DEFINES="A=1 B"`:
    /// for experiments with a kernel's variants (part of the source, so of the cache key).
    let kernelDefines: String
    /// Dynamic shared memory each kernel has been allowed, by function address.
    private let sharedLimits = Mutex<[Int: Int]>([:])

    /// Opens device `ordinal`. Throws `libraryNotFound` on a machine without the driver.
    public init(ordinal: Int = 0, environment: [String: String]) throws(CUDAError) {
        self.environment = environment
        let driver = try CUDADriver(environment: environment)
        self.driver = driver
        self.ordinal = ordinal
        guard try driver.deviceCount() > ordinal else { throw .noDevice }
        var device: Int32 = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        var buffer = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&buffer, 256, device), "cuDeviceGetName")
        name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func attribute(_ id: Int32, _ label: String) throws(CUDAError) -> Int {
            var value: Int32 = 0
            try driver.check(driver.cuDeviceGetAttribute(&value, id, device), "cuDeviceGetAttribute(\(label))")
            return Int(value)
        }
        computeCapability = (try attribute(75, "COMPUTE_CAPABILITY_MAJOR"), try attribute(76, "COMPUTE_CAPABILITY_MINOR"))
        multiprocessors = try attribute(16, "MULTIPROCESSOR_COUNT")
        var bytes = 0
        try driver.check(driver.cuDeviceTotalMem(&bytes, device), "cuDeviceTotalMem")
        totalMemory = bytes
        var context: CUhandle?
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        self.context = context
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        var stream: CUhandle?
        try driver.check(driver.cuStreamCreate(&stream, 1), "cuStreamCreate")   // CU_STREAM_NON_BLOCKING
        self.stream = stream
        cache = KernelCache(directory: KernelCache.defaultDirectory(environment: environment))
        kernelDefines = (environment["PEREGRINE_CUDA_KERNEL_DEFINES"] ?? "").split(separator: " ")
            .map { "#define " + $0.replacingOccurrences(of: "=", with: " ") + "\n" }.joined()
        dependentLaunch = computeCapability.major >= 9 && driver.cuLaunchKernelEx != nil && environment["PEREGRINE_CUDA_PDL"] != "0"
    }

    /// The architecture NVRTC compiles for, e.g. 90 for an H100.
    public var architecture: Int { computeCapability.major * 10 + computeCapability.minor }

    func makeCurrent() {
        _ = driver.cuCtxSetCurrent(context)
    }

    /// (free, total) device memory in bytes.
    public func memoryInfo() throws(CUDAError) -> (free: Int, total: Int) {
        makeCurrent()
        var free = 0, total = 0
        try driver.check(driver.cuMemGetInfo(&free, &total), "cuMemGetInfo")
        return (free, total)
    }

    /// Waits until every queued op has finished, surfacing any asynchronous error.
    public func synchronize() throws(CUDAError) {
        makeCurrent()
        try driver.check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }

    /// The kernel `function` of `module` (a `.cu` source), compiled on first use: from the disk
    /// cache when an identical source was compiled for this architecture and NVRTC version.
    func function(_ function: String, module: KernelSource) throws(CUDAError) -> CUhandle {
        let key = module.name + "/" + function
        if let found = functions.withLock({ $0[key] }) { return found.handle }
        makeCurrent()
        let image = try image(of: module)
        var handle: CUhandle?
        let loaded = image.withUnsafeBytes { driver.cuModuleLoadData(&handle, $0.baseAddress) }
        try driver.check(loaded, "cuModuleLoadData(\(module.name))")
        // Every kernel of the module, so later lookups need no reload.
        var result: CUhandle?
        for name in module.functions {
            var fn: CUhandle?
            try driver.check(driver.cuModuleGetFunction(&fn, handle, name), "cuModuleGetFunction(\(name))")
            guard let fn else { throw .symbolNotFound(library: module.name, symbol: name) }
            functions.withLock { $0[module.name + "/" + name] = LoadedFunction(handle: fn) }
            if name == function { result = fn }
        }
        guard let result else { throw .symbolNotFound(library: module.name, symbol: function) }
        return result
    }

    private func image(of module: KernelSource) throws(CUDAError) -> [UInt8] {
        let nvrtc = try compiler.withLock { (loaded: inout NVRTC?) throws(CUDAError) -> NVRTC in
            if let loaded { return loaded }
            let fresh = try NVRTC(environment: environment)
            loaded = fresh
            return fresh
        }
        let source = kernelDefines + module.fullSource
        let path = cache.path(name: module.name, source: source, architecture: architecture, compilerVersion: nvrtc.version)
        if let cached = cache.load(path) { return cached }
        let cubin = try nvrtc.compile(source, name: module.name + ".cu", architecture: architecture)
        compiled.withLock { $0 += 1 }
        cache.store(cubin, at: path)
        return cubin
    }

    /// Queues `function` on the device's stream.
    func launch(_ function: CUhandle, grid: (Int, Int, Int), block: Int, sharedBytes: Int = 0, _ arguments: inout KernelArguments) throws(CUDAError) {
        if sharedBytes > 48 << 10 {
            // Past 48 KiB a kernel must opt in to more dynamic shared memory (once per size).
            let key = Int(bitPattern: UnsafeRawPointer(function))
            if sharedLimits.withLock({ ($0[key] ?? 0) < sharedBytes }) {
                try driver.check(driver.cuFuncSetAttribute(function, 8, Int32(sharedBytes)), "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES, \(sharedBytes))")
                sharedLimits.withLock { $0[key] = sharedBytes }
            }
        }
        if dependentLaunch, let launchEx = driver.cuLaunchKernelEx {
            let result = arguments.withPointers { pointers in
                LaunchConfiguration.withDependentLaunch(grid: grid, block: block, sharedBytes: sharedBytes, stream: stream) {
                    launchEx($0, function, pointers, nil)
                }
            }
            return try driver.check(result, "cuLaunchKernelEx")
        }
        let result = arguments.withPointers { pointers in
            driver.cuLaunchKernel(function, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block), 1, 1,
                                  UInt32(sharedBytes), stream, pointers, nil)
        }
        try driver.check(result, "cuLaunchKernel")
    }
}

/// A kernel handle; the driver's handles may be used from any thread.
struct LoadedFunction: @unchecked Sendable {
    let handle: CUhandle
}
