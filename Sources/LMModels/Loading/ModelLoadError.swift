/// Why a model could not be loaded. Every case names the file and, where it applies, the tensor
/// or configuration key, so the message alone tells the user what to fix.
public enum ModelLoadError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    case notAModel(path: String, reason: String)
    case fileTooSmall(file: String, size: Int)
    case headerLengthOutOfBounds(file: String, headerLength: UInt64, fileSize: Int)
    case headerNotJSON(file: String, reason: String)
    case invalidHeaderEntry(file: String, tensor: String, reason: String)
    case unknownDType(file: String, tensor: String, dtype: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case tensorOutOfBounds(file: String, tensor: String, begin: Int, end: Int, available: Int)
    case tensorSizeMismatch(file: String, tensor: String, shape: [Int], dtype: String, bytes: Int)
    case shapeMismatch(file: String, tensor: String, expected: [Int], actual: [Int])
    case missingTensor(tensor: String, searched: String)
    case invalidIndex(file: String, reason: String)
    case missingConfigKey(file: String, key: String)
    case invalidConfig(file: String, key: String, reason: String)
    case unsupportedArchitecture(file: String, name: String)
    case ggufBadMagic(file: String, found: String)
    case ggufUnsupportedVersion(file: String, version: UInt32)
    case ggufTruncated(file: String, reading: String, offset: Int)
    case ggufStringPastEnd(file: String, reading: String, length: UInt64, remaining: Int)
    case ggufInvalidMetadata(file: String, key: String, reason: String)
    case ggufUnknownTensorType(file: String, tensor: String, type: UInt32)
    case ggufInvalidTensor(file: String, tensor: String, reason: String)
    case missingMetadata(file: String, key: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): "cannot open \(file): \(reason)"
        case let .notAModel(path, reason): "\(path) is not a model: \(reason)"
        case let .fileTooSmall(file, size): "\(file) is truncated: \(size) bytes cannot hold a safetensors header"
        case let .headerLengthOutOfBounds(file, length, size):
            "\(file) is truncated or corrupt: its header claims \(length) bytes but the file has \(size)"
        case let .headerNotJSON(file, reason): "\(file): the safetensors header is not valid JSON (\(reason))"
        case let .invalidHeaderEntry(file, tensor, reason): "\(file): tensor \(tensor): \(reason)"
        case let .unknownDType(file, tensor, dtype): "\(file): tensor \(tensor) has unknown dtype \"\(dtype)\""
        case let .unsupportedDType(file, tensor, dtype): "\(file): tensor \(tensor) has dtype \(dtype), which Peregrine cannot use as a weight"
        case let .tensorOutOfBounds(file, tensor, begin, end, available):
            "\(file) is truncated or corrupt: tensor \(tensor) spans bytes \(begin)..<\(end) of a data section of \(available) bytes"
        case let .tensorSizeMismatch(file, tensor, shape, dtype, bytes):
            "\(file): tensor \(tensor) of shape \(shape) and dtype \(dtype) cannot occupy \(bytes) bytes"
        case let .shapeMismatch(file, tensor, expected, actual):
            "\(file): tensor \(tensor) has shape \(actual) but the configuration implies \(expected)"
        case let .missingTensor(tensor, searched): "tensor \(tensor) is missing from \(searched)"
        case let .invalidIndex(file, reason): "\(file): \(reason)"
        case let .missingConfigKey(file, key): "\(file) lacks the required key \"\(key)\""
        case let .invalidConfig(file, key, reason): "\(file): \"\(key)\" \(reason)"
        case let .unsupportedArchitecture(file, name):
            file.hasSuffix(".gguf")
                ? "\(file): architecture \"\(name)\" is not supported (supported in GGUF: \(GGUFArchitecture.supportedNames.joined(separator: ", ")))"
                : "\(file): architecture \"\(name)\" is not supported (supported: \(ArchitectureRegistry.supportedNames.joined(separator: ", ")))"
        case let .ggufBadMagic(file, found): "\(file) is not a GGUF file (it starts with \(found), not \"GGUF\")"
        case let .ggufUnsupportedVersion(file, version): "\(file): GGUF version \(version) is not supported (versions 2 and 3 are)"
        case let .ggufTruncated(file, reading, offset): "\(file) is truncated or corrupt: the file ends at byte \(offset) while reading \(reading)"
        case let .ggufStringPastEnd(file, reading, length, remaining):
            "\(file) is truncated or corrupt: \(reading) claims a string of \(length) bytes with \(remaining) left in the file"
        case let .ggufInvalidMetadata(file, key, reason): "\(file): metadata \"\(key)\": \(reason)"
        case let .ggufUnknownTensorType(file, tensor, type): "\(file): tensor \(tensor) has unknown ggml type \(type)"
        case let .ggufInvalidTensor(file, tensor, reason): "\(file): tensor \(tensor): \(reason)"
        case let .missingMetadata(file, key): "\(file) lacks the required metadata \"\(key)\""
        }
    }
}
