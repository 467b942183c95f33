/// GPT-2's reversible map from bytes to printable characters (`bytes_to_unicode`): printable
/// Latin-1 bytes map to themselves, the other 68 to U+0100 onwards, so every byte sequence is
/// a string of vocabulary characters.
enum ByteLevel {
    static let byteToScalar: [Unicode.Scalar] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var map = [Unicode.Scalar](repeating: " ", count: 256)
        for b in printable { map[b] = Unicode.Scalar(UInt32(b))! }
        var extra: UInt32 = 256
        for b in 0..<256 where !printable.contains(b) {
            map[b] = Unicode.Scalar(extra)!
            extra += 1
            printable.append(b)
        }
        return map
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var inverse: [UInt32: UInt8] = [:]
        for (byte, scalar) in byteToScalar.enumerated() { inverse[scalar.value] = UInt8(byte) }
        return inverse
    }()

    /// The byte-level spelling of `text`'s UTF-8 bytes.
    static func encode(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in text.utf8 { scalars.append(byteToScalar[Int(byte)]) }
        return String(scalars)
    }

    /// Bytes back from a byte-level spelling; characters outside the map are kept as UTF-8.
    static func decodeBytes(_ text: String, into bytes: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            if let byte = scalarToByte[scalar.value] {
                bytes.append(byte)
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
    }
}

/// "<0x0A>": the name of a byte-fallback token.
func byteTokenName(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "<0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)]) + ">"
}

/// The byte of a "<0xXX>" token, or nil.
func byteOfToken(_ token: String) -> UInt8? {
    let utf8 = Array(token.utf8)
    guard utf8.count == 6, utf8[0] == 60, utf8[1] == 48, utf8[2] == 120, utf8[5] == 62 else { return nil }
    return UInt8(String(decoding: utf8[3...4], as: UTF8.self), radix: 16)
}
