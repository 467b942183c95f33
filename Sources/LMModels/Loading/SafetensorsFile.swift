#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMTensor

/// One `.safetensors` file: an 8-byte little-endian header length, a JSON header mapping tensor
/// names to dtype, shape and byte range, then the data. The file is memory-mapped and every
/// tensor is validated when the file is opened, so a corrupt file fails with the tensor's name.
public final class SafetensorsFile: @unchecked Sendable {
    public struct Entry: Sendable {
        let dtype: SafetensorsDType
        public let shape: [Int]
        /// Byte range inside the data section.
        let begin: Int
        let end: Int
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let file: MappedFile
    private let dataStart: Int

    public init(path: String) throws(ModelLoadError) {
        self.path = path
        file = try MappedFile(path: path)
        guard file.count >= 8 else { throw .fileTooSmall(file: path, size: file.count) }
        let headerLength = file.loadLittleEndian(UInt64.self, at: 0)
        guard headerLength <= UInt64(file.count - 8) else {
            throw .headerLengthOutOfBounds(file: path, headerLength: headerLength, fileSize: file.count)
        }
        dataStart = 8 + Int(headerLength)
        let header = try Self.parseHeader(UnsafeRawBufferPointer(rebasing: file.bytes[8..<dataStart]), path: path)
        metadata = header.metadata
        entries = try Self.validate(header.tensors, dataSize: file.count - dataStart, path: path)
    }

    public var tensorNames: [String] { entries.keys.sorted() }

    /// A view of tensor `name` aliasing the mapping.
    public func tensor(_ name: String) throws(ModelLoadError) -> HostTensor {
        guard let entry = entries[name] else { throw .missingTensor(tensor: name, searched: path) }
        guard let dtype = entry.dtype.dtype else {
            throw .unsupportedDType(file: path, tensor: name, dtype: entry.dtype.rawValue)
        }
        guard entry.shape.count <= Shape.maxRank else {
            throw .invalidHeaderEntry(file: path, tensor: name, reason: "rank \(entry.shape.count) exceeds \(Shape.maxRank)")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + entry.begin)..<(dataStart + entry.end)])
        return HostTensor(name: name, dtype: dtype, shape: Shape(entry.shape), bytes: bytes, owner: file)
    }

    // MARK: Parsing

    private struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]
        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private struct Header: Decodable {
        var tensors: [String: RawEntry] = [:]
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = (try? container.decode([String: String].self, forKey: key)) ?? [:]
                } else {
                    tensors[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
                }
            }
        }
    }

    private static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(ModelLoadError) -> Header {
        let data = Data(bytes)
        do {
            return try JSONDecoder().decode(Header.self, from: data)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw .headerNotJSON(file: path, reason: context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw .headerNotJSON(file: path, reason: "the header is not a JSON object")
        } catch let error as DecodingError {
            let (tensor, reason) = describe(error)
            throw .invalidHeaderEntry(file: path, tensor: tensor, reason: reason)
        } catch {
            throw .headerNotJSON(file: path, reason: "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> (tensor: String, reason: String) {
        let context: DecodingError.Context
        switch error {
        case let .keyNotFound(key, c):
            return (c.codingPath.first?.stringValue ?? "?", "missing \"\(key.stringValue)\"")
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c):
            context = c
        @unknown default:
            return ("?", "\(error)")
        }
        let field = context.codingPath.dropFirst().map(\.stringValue).joined(separator: ".")
        return (context.codingPath.first?.stringValue ?? "?", "invalid \"\(field)\": \(context.debugDescription)")
    }

    private static func validate(_ raw: [String: RawEntry], dataSize: Int, path: String) throws(ModelLoadError) -> [String: Entry] {
        var entries: [String: Entry] = [:]
        for (name, entry) in raw {
            guard let dtype = SafetensorsDType(rawValue: entry.dtype) else {
                throw .unknownDType(file: path, tensor: name, dtype: entry.dtype)
            }
            guard entry.dataOffsets.count == 2 else {
                throw .invalidHeaderEntry(file: path, tensor: name, reason: "data_offsets must hold two numbers")
            }
            let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
            guard begin >= 0, end >= begin, end <= dataSize else {
                throw .tensorOutOfBounds(file: path, tensor: name, begin: begin, end: end, available: dataSize)
            }
            guard entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw .invalidHeaderEntry(file: path, tensor: name, reason: "negative dimension in \(entry.shape)")
            }
            let (elements, overflow) = entry.shape.reduce((1, false)) { acc, d in
                let (product, o) = acc.0.multipliedReportingOverflow(by: d)
                return (product, acc.1 || o)
            }
            let (bytes, overflow2) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, !overflow2, bytes == end - begin else {
                throw .tensorSizeMismatch(file: path, tensor: name, shape: entry.shape, dtype: dtype.rawValue, bytes: end - begin)
            }
            entries[name] = Entry(dtype: dtype, shape: entry.shape, begin: begin, end: end)
        }
        return entries
    }
}
