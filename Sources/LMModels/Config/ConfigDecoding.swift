#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads and decodes a JSON configuration file, turning Codable errors into `ModelLoadError`s
/// that name the file and the key path ("rope_scaling.factor").
enum ConfigDecoding {
    static func read(_ path: String) throws(ModelLoadError) -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .cannotOpen(file: path, reason: fileExists(path) ? "\(error)" : "no such file")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws(ModelLoadError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw map(error, file: file)
        } catch let error as ModelLoadError {
            throw error
        } catch {
            throw .invalidConfig(file: file, key: "", reason: "\(error)")
        }
    }

    private static func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
        (codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            .joined(separator: ".").replacing(".[", with: "[")
    }

    private static func map(_ error: DecodingError, file: String) -> ModelLoadError {
        switch error {
        case let .keyNotFound(key, context):
            return .missingConfigKey(file: file, key: path(context.codingPath, key))
        case let .valueNotFound(_, context):
            return .missingConfigKey(file: file, key: path(context.codingPath))
        case let .typeMismatch(type, context):
            return .invalidConfig(file: file, key: path(context.codingPath), reason: "is not a valid \(type)")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return .invalidConfig(file: file, key: "", reason: "is not valid JSON") }
            return .invalidConfig(file: file, key: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .invalidConfig(file: file, key: "", reason: "\(error)")
        }
    }
}

/// A token id or a list of them (`eos_token_id` is either in Hugging Face configs).
public struct TokenIDList: Decodable, Sendable, Equatable {
    public var ids: [Int32]

    public init(_ ids: [Int32]) { self.ids = ids }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(Int32.self) {
            ids = [single]
        } else {
            ids = try container.decode([Int32].self)
        }
    }
}
