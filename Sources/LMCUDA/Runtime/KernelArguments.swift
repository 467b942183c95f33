/// The arguments of one kernel launch, as cuLaunchKernel takes them: an array of pointers to the
/// values. Scalars and pointers take one 8-byte slot; a struct passed by value takes several
/// consecutive slots laid out as the C struct is.
struct KernelArguments {
    private var slots: [UInt64] = []
    private var starts: [Int] = []

    init() {
        slots.reserveCapacity(16)
        starts.reserveCapacity(16)
    }

    mutating func add(_ pointer: CUdeviceptr) { append([pointer]) }
    mutating func add(_ value: Int32) { append([UInt64(UInt32(bitPattern: value))]) }
    mutating func add(_ value: Int) { append([UInt64(bitPattern: Int64(value))]) }
    mutating func add(_ value: Float) { append([UInt64(value.bitPattern)]) }
    /// A struct argument given as its bytes in 8-byte words.
    mutating func addStruct(_ words: [UInt64]) { append(words) }

    private mutating func append(_ words: [UInt64]) {
        starts.append(slots.count)
        slots.append(contentsOf: words)
    }

    /// Calls `body` with the `void**` cuLaunchKernel expects.
    mutating func withPointers<R>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> R) -> R {
        let starts = self.starts
        return slots.withUnsafeMutableBytes { raw in
            var pointers: [UnsafeMutableRawPointer?] = starts.map { raw.baseAddress! + $0 * 8 }
            return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        }
    }
}
