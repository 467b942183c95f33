/// The bytes of a `CUlaunchConfig` with one `CUlaunchAttribute` — programmatic stream
/// serialization allowed — as cuLaunchKernelEx reads them.
///
/// CUlaunchConfig (56 bytes): gridDimX/Y/Z, blockDimX/Y/Z, sharedMemBytes (u32 each, 0-27),
/// hStream at 32, attrs at 40, numAttrs (u32) at 48. CUlaunchAttribute (72 bytes): id (u32) at 0,
/// a 64-byte value union at 8, whose first int is programmaticStreamSerializationAllowed.
enum LaunchConfiguration {
    static let programmaticStreamSerialization: UInt32 = 6   // CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
    static let configurationSize = 56, attributeSize = 72

    /// Calls `body` with the configuration, built on the stack (its attribute in the same bytes).
    static func withDependentLaunch<R>(grid: (Int, Int, Int), block: Int, sharedBytes: Int, stream: CUhandle?,
                                       _ body: (UnsafeRawPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: configurationSize + attributeSize, alignment: 8) { raw in
            let base = raw.baseAddress!
            base.initializeMemory(as: UInt8.self, repeating: 0, count: raw.count)
            for (index, value) in [grid.0, grid.1, grid.2, block, 1, 1, sharedBytes].enumerated() {
                base.storeBytes(of: UInt32(value), toByteOffset: 4 * index, as: UInt32.self)
            }
            base.storeBytes(of: UInt(bitPattern: stream), toByteOffset: 32, as: UInt.self)
            let attribute = base + configurationSize
            base.storeBytes(of: UInt(bitPattern: attribute), toByteOffset: 40, as: UInt.self)
            base.storeBytes(of: UInt32(1), toByteOffset: 48, as: UInt32.self)
            attribute.storeBytes(of: programmaticStreamSerialization, toByteOffset: 0, as: UInt32.self)
            attribute.storeBytes(of: Int32(1), toByteOffset: 8, as: Int32.self)
            return body(UnsafeRawPointer(base))
        }
    }
}
