import LMTensor

/// Host memory seen by the CPU backend: either its own 64-byte aligned allocation or an alias of
/// memory kept alive by `owner` (a mapped checkpoint).
final class CPUBuffer: DeviceBuffer, @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int
    private let owner: AnyObject?

    init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        owner = nil
    }

    init(aliasing bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
        byteCount = bytes.count
        pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!)
        self.owner = owner
    }

    deinit {
        if owner == nil { pointer.deallocate() }
    }
}

extension Tensor {
    /// The first byte of this view in host memory. The tensor must belong to the CPU backend.
    var hostPointer: UnsafeMutableRawPointer {
        guard let buffer = buffer as? CPUBuffer else {
            preconditionFailure("tensor on \(type(of: buffer)) passed to the CPU backend")
        }
        return buffer.pointer + byteOffset
    }

    var floats: UnsafeMutablePointer<Float> {
        precondition(dtype == .f32, "expected an f32 tensor, got \(dtype)")
        return hostPointer.assumingMemoryBound(to: Float.self)
    }

    var int32s: UnsafeMutablePointer<Int32> {
        precondition(dtype == .i32, "expected an i32 tensor, got \(dtype)")
        return hostPointer.assumingMemoryBound(to: Int32.self)
    }
}
