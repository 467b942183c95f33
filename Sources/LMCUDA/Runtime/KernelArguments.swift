/// The arguments of one kernel launch, each in an 8-byte slot, as cuLaunchKernel takes them
/// (an array of pointers to the values).
struct KernelArguments {
    private(set) var slots: [UInt64] = []

    init() { slots.reserveCapacity(16) }

    mutating func add(_ pointer: CUdeviceptr) { slots.append(pointer) }
    mutating func add(_ value: Int32) { slots.append(UInt64(UInt32(bitPattern: value))) }
    mutating func add(_ value: Int) { slots.append(UInt64(bitPattern: Int64(value))) }
    mutating func add(_ value: Float) { slots.append(UInt64(value.bitPattern)) }

    /// Calls `body` with the `void**` cuLaunchKernel expects.
    mutating func withPointers<R>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> R) -> R {
        let count = slots.count
        return slots.withUnsafeMutableBytes { raw in
            var pointers: [UnsafeMutableRawPointer?] = (0..<count).map { raw.baseAddress! + $0 * 8 }
            return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        }
    }
}
