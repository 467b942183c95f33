import LMTensor

extension HostTensor {
    /// The values of a float tensor (f32, f16 or bf16) as f32, for small load-time transforms.
    func floatValues(file: String) throws(ModelLoadError) -> [Float] {
        let count = shape.elementCount
        switch dtype {
        case .f32: return (0..<count).map { bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        case .f16: return (0..<count).map { Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        case .bf16: return (0..<count).map { Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
        default: throw .unsupportedDType(file: file, tensor: name, dtype: dtype.rawValue)
        }
    }
}
