#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened with dlopen, and typed lookups of its C functions.
///
/// Search order for each candidate file name: the folders in `PEREGRINE_CUDA_LIBS`
/// (colon-separated), then the system loader (LD_LIBRARY_PATH, the ldconfig cache), then the
/// usual CUDA folders. The first that opens wins.
final class DynamicLibrary: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    let path: String

    private init(handle: UnsafeMutableRawPointer, path: String) {
        self.handle = handle
        self.path = path
    }

    static let standardFolders = ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                                  "/usr/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/lib64"]

    static func open(_ library: String, candidates: [String], environment: [String: String]) throws(CUDAError) -> DynamicLibrary {
        let override = (environment["PEREGRINE_CUDA_LIBS"] ?? "").split(separator: ":").map(String.init)
        var tried: [String] = []
        func attempt(_ path: String) -> DynamicLibrary? {
            tried.append(path)
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
            return DynamicLibrary(handle: handle, path: path)
        }
        for folder in override { for name in candidates { if let found = attempt(folder + "/" + name) { return found } } }
        for name in candidates { if let found = attempt(name) { return found } }
        for folder in standardFolders { for name in candidates { if let found = attempt(folder + "/" + name) { return found } } }
        throw .libraryNotFound(library: library, tried: tried)
    }

    /// The function `name` as the C function type `T`.
    func function<T>(_ name: String, as type: T.Type = T.self) throws(CUDAError) -> T {
        guard let pointer = dlsym(handle, name) else { throw .symbolNotFound(library: path, symbol: name) }
        return unsafeBitCast(pointer, to: T.self)
    }
}
