#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes a request body, turning every failure into a 400 that names the field.
public enum RequestDecoding {
    public static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(APIError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        } catch {
            throw .invalid("The body is not valid JSON: \(error)")
        }
    }
}

extension APIError {
    init(decoding error: DecodingError) {
        func path(_ codingPath: [CodingKey]) -> String {
            var out = ""
            for key in codingPath {
                // Array positions come as "Index N" keys; object keys that look like numbers stay keys.
                if let index = key.intValue, key.stringValue.hasPrefix("Index ") {
                    out += "[\(index)]"
                } else {
                    out += (out.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return out
        }
        switch error {
        case let .typeMismatch(type, context):
            let field = path(context.codingPath)
            self = .invalid("\(field.isEmpty ? "The body" : field) must be \(Self.describe(type))", param: field.isEmpty ? nil : field)
        case let .valueNotFound(type, context):
            let field = path(context.codingPath)
            self = .invalid("\(field) must be \(Self.describe(type)), not null", param: field)
        case let .keyNotFound(key, context):
            let field = path(context.codingPath + [key])
            self = .invalid("\(field) is required", param: field)
        case let .dataCorrupted(context):
            let field = path(context.codingPath)
            if field.isEmpty {
                self = .invalid("The body is not valid JSON: \(context.debugDescription)")
            } else {
                self = .invalid("\(field): \(context.debugDescription)", param: field)
            }
        @unknown default:
            self = .invalid("The body could not be read: \(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [String].Type: "a list of strings"
        case is [Int].Type: "a list of integers"
        default: "\(type)".hasPrefix("Array") ? "a list" : "\(type)".hasPrefix("Dictionary") ? "an object" : "of type \(type)"
        }
    }
}

extension KeyedDecodingContainer {
    /// An integer field; a number out of range or with a fraction is refused naming the field
    /// (the JSON decoder alone would call the whole body invalid).
    func decodeInteger(forKey key: Key) throws -> Int? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let value = try? decode(Int.self, forKey: key) { return value }
        let value = try decode(Double.self, forKey: key)   // not a number: a type mismatch naming the field
        throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must be an integer, got \(value)")
    }
}
