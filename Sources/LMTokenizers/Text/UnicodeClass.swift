/// Character classes of the pre-tokenizer patterns: `\p{L}`, `\p{N}`, `\s` as Oniguruma (which
/// Hugging Face tokenizers compiles its patterns with) and llama.cpp define them, from the
/// Swift standard library's Unicode properties. ASCII is answered from a table.
enum UnicodeClass: UInt8 {
    case letter, number, whitespace, other

    private static let ascii: [UnicodeClass] = (0..<128).map { value in
        let scalar = Unicode.Scalar(UInt8(value))
        return classify(slow: scalar)
    }

    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> UnicodeClass {
        scalar.value < 128 ? ascii[Int(scalar.value)] : classify(slow: scalar)
    }

    private static func classify(slow scalar: Unicode.Scalar) -> UnicodeClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }
}
