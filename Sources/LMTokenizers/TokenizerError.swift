/// Why a tokenizer could not be built or used. Messages name the file and the key.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    case cannotRead(file: String, reason: String)
    case invalidJSON(file: String, reason: String)
    case unsupported(file: String, component: String, type: String)
    case invalid(file: String, key: String, reason: String)
    case missingToken(file: String, token: String)

    public var description: String {
        switch self {
        case let .cannotRead(file, reason): "cannot read \(file): \(reason)"
        case let .invalidJSON(file, reason): "\(file) is not a valid tokenizer: \(reason)"
        case let .unsupported(file, component, type): "\(file): \(component) of type \"\(type)\" is not supported"
        case let .invalid(file, key, reason): "\(file): \"\(key)\" \(reason)"
        case let .missingToken(file, token): "\(file): token \"\(token)\" is not in the vocabulary"
        }
    }
}
