#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opaque driver handles (CUcontext, CUmodule, CUfunction, CUstream, CUevent, CUgraph, CUgraphExec).
public typealias CUhandle = OpaquePointer
/// A device address.
public typealias CUdeviceptr = UInt64

/// The CUDA driver API (`libcuda.so.1`), the entry points we use, looked up once with dlsym.
/// Every wrapper checks the result and throws a `CUDAError` naming the call.
public final class CUDADriver: @unchecked Sendable {
    typealias Result = Int32
    let library: DynamicLibrary

    let cuInit: @convention(c) (UInt32) -> Result
    let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
    let cuGetErrorName: @convention(c) (Result, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Result
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Result
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Result
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Result
    let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Result
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<CUhandle?>, Int32) -> Result
    let cuCtxSetCurrent: @convention(c) (CUhandle?) -> Result
    let cuCtxSynchronize: @convention(c) () -> Result
    let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> Result
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int) -> Result
    let cuMemFree: @convention(c) (CUdeviceptr) -> Result
    let cuMemAllocHost: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> Result
    let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> Result
    let cuMemcpyHtoDAsync: @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int, CUhandle?) -> Result
    let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int, CUhandle?) -> Result
    let cuMemcpyDtoDAsync: @convention(c) (CUdeviceptr, CUdeviceptr, Int, CUhandle?) -> Result
    let cuMemsetD8Async: @convention(c) (CUdeviceptr, UInt8, Int, CUhandle?) -> Result
    let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<CUhandle?>, UnsafeRawPointer?) -> Result
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<CUhandle?>, CUhandle?, UnsafePointer<CChar>) -> Result
    let cuFuncSetAttribute: @convention(c) (CUhandle?, Int32, Int32) -> Result
    let cuLaunchKernel: @convention(c) (CUhandle?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, CUhandle?,
                                         UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Result
    /// cuLaunchKernelEx (CUDA 12.0 and later; nil before): a launch with attributes, here
    /// programmatic stream serialization. Takes a `LaunchConfiguration`'s bytes.
    let cuLaunchKernelEx: (@convention(c) (UnsafeRawPointer?, CUhandle?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                           UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Result)?
    let cuStreamCreate: @convention(c) (UnsafeMutablePointer<CUhandle?>, UInt32) -> Result
    let cuStreamSynchronize: @convention(c) (CUhandle?) -> Result
    let cuEventCreate: @convention(c) (UnsafeMutablePointer<CUhandle?>, UInt32) -> Result
    let cuEventRecord: @convention(c) (CUhandle?, CUhandle?) -> Result
    let cuEventSynchronize: @convention(c) (CUhandle?) -> Result
    let cuEventElapsedTime: @convention(c) (UnsafeMutablePointer<Float>, CUhandle?, CUhandle?) -> Result
    let cuEventDestroy: @convention(c) (CUhandle?) -> Result
    let cuStreamBeginCapture: @convention(c) (CUhandle?, Int32) -> Result
    let cuStreamEndCapture: @convention(c) (CUhandle?, UnsafeMutablePointer<CUhandle?>) -> Result
    let cuStreamIsCapturing: @convention(c) (CUhandle?, UnsafeMutablePointer<Int32>) -> Result
    let cuGraphInstantiateWithFlags: @convention(c) (UnsafeMutablePointer<CUhandle?>, CUhandle?, UInt64) -> Result
    let cuGraphLaunch: @convention(c) (CUhandle?, CUhandle?) -> Result
    let cuGraphExecDestroy: @convention(c) (CUhandle?) -> Result
    let cuGraphDestroy: @convention(c) (CUhandle?) -> Result

    init(environment: [String: String]) throws(CUDAError) {
        let lib = try DynamicLibrary.open("the CUDA driver (libcuda.so.1)", candidates: ["libcuda.so.1", "libcuda.so"], environment: environment)
        library = lib
        cuInit = try lib.function("cuInit")
        cuDriverGetVersion = try lib.function("cuDriverGetVersion")
        cuGetErrorName = try lib.function("cuGetErrorName")
        cuDeviceGetCount = try lib.function("cuDeviceGetCount")
        cuDeviceGet = try lib.function("cuDeviceGet")
        cuDeviceGetName = try lib.function("cuDeviceGetName")
        cuDeviceGetAttribute = try lib.function("cuDeviceGetAttribute")
        cuDeviceTotalMem = try lib.function("cuDeviceTotalMem_v2")
        cuDevicePrimaryCtxRetain = try lib.function("cuDevicePrimaryCtxRetain")
        cuCtxSetCurrent = try lib.function("cuCtxSetCurrent")
        cuCtxSynchronize = try lib.function("cuCtxSynchronize")
        cuMemGetInfo = try lib.function("cuMemGetInfo_v2")
        cuMemAlloc = try lib.function("cuMemAlloc_v2")
        cuMemFree = try lib.function("cuMemFree_v2")
        cuMemAllocHost = try lib.function("cuMemAllocHost_v2")
        cuMemFreeHost = try lib.function("cuMemFreeHost")
        cuMemcpyHtoDAsync = try lib.function("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try lib.function("cuMemcpyDtoHAsync_v2")
        cuMemcpyDtoDAsync = try lib.function("cuMemcpyDtoDAsync_v2")
        cuMemsetD8Async = try lib.function("cuMemsetD8Async")
        cuModuleLoadData = try lib.function("cuModuleLoadData")
        cuModuleGetFunction = try lib.function("cuModuleGetFunction")
        cuFuncSetAttribute = try lib.function("cuFuncSetAttribute")
        cuLaunchKernel = try lib.function("cuLaunchKernel")
        cuLaunchKernelEx = try? lib.function("cuLaunchKernelEx")
        cuStreamCreate = try lib.function("cuStreamCreate")
        cuStreamSynchronize = try lib.function("cuStreamSynchronize")
        cuEventCreate = try lib.function("cuEventCreate")
        cuEventRecord = try lib.function("cuEventRecord")
        cuEventSynchronize = try lib.function("cuEventSynchronize")
        cuEventElapsedTime = try lib.function("cuEventElapsedTime_v2")
        cuEventDestroy = try lib.function("cuEventDestroy_v2")
        cuStreamBeginCapture = try lib.function("cuStreamBeginCapture_v2")
        cuStreamEndCapture = try lib.function("cuStreamEndCapture")
        cuStreamIsCapturing = try lib.function("cuStreamIsCapturing")
        cuGraphInstantiateWithFlags = try lib.function("cuGraphInstantiateWithFlags")
        cuGraphLaunch = try lib.function("cuGraphLaunch")
        cuGraphExecDestroy = try lib.function("cuGraphExecDestroy")
        cuGraphDestroy = try lib.function("cuGraphDestroy")
        try check(cuInit(0), "cuInit")
    }

    /// Throws unless `result` is CUDA_SUCCESS, naming the call and the error.
    func check(_ result: Result, _ call: @autoclosure () -> String) throws(CUDAError) {
        guard result != 0 else { return }
        var name: UnsafePointer<CChar>?
        _ = cuGetErrorName(result, &name)
        throw .call(call(), code: result, name: name.map { String(cString: $0) } ?? "CUDA_ERROR_\(result)")
    }

    public var version: Int {
        var value: Int32 = 0
        _ = cuDriverGetVersion(&value)
        return Int(value)
    }

    public func deviceCount() throws(CUDAError) -> Int {
        var count: Int32 = 0
        try check(cuDeviceGetCount(&count), "cuDeviceGetCount")
        return Int(count)
    }
}
