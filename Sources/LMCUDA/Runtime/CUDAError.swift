/// A failure of the CUDA stack, naming what failed: a library that could not be found, or a
/// call and the code (and name) it returned.
public enum CUDAError: Error, CustomStringConvertible, Equatable {
    /// No candidate of a library could be opened; `tried` lists where we looked.
    case libraryNotFound(library: String, tried: [String])
    case symbolNotFound(library: String, symbol: String)
    /// A driver, NVRTC or cuBLASLt call returned an error.
    case call(String, code: Int32, name: String)
    /// NVRTC rejected a kernel source; `log` is its compiler output.
    case compilation(kernel: String, log: String)
    case noDevice
    case unsupported(String)

    public var description: String {
        switch self {
        case let .libraryNotFound(library, tried):
            "CUDA: cannot load \(library) (tried \(tried.joined(separator: ", "))); set PEREGRINE_CUDA_LIBS to the folder that holds it"
        case let .symbolNotFound(library, symbol): "CUDA: \(library) has no symbol \(symbol) (too old a version?)"
        case let .call(call, code, name): "CUDA: \(call) failed with \(name) (\(code))"
        case let .compilation(kernel, log): "CUDA: NVRTC could not compile \(kernel):\n\(log)"
        case .noDevice: "CUDA: the driver found no GPU"
        case let .unsupported(what): "CUDA: \(what) is not supported yet"
        }
    }
}
