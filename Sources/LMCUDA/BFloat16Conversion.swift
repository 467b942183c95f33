/// bf16 as raw 16-bit patterns on the host: round to nearest even, as the kernels do.
enum BFloat16Conversion {
    static func fromFloat(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x40) }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) >> 16)
    }

    static func toFloat(_ value: UInt16) -> Float { Float(bitPattern: UInt32(value) << 16) }
}
