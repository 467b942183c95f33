import LMTensor

/// A GGUF file (versions 2 and 3, little-endian): header, metadata, tensor infos, then the data
/// section at the next multiple of `general.alignment`. Memory-mapped; everything is validated
/// when the file is opened, so a damaged file fails with a typed error naming what broke.
public final class GGUFFile: @unchecked Sendable {
    public struct TensorInfo: Sendable {
        public let name: String
        /// Dimensions in ggml order (innermost first): [K, N] for an N x K matrix.
        public let dimensions: [Int]
        let type: GGMLType
        /// Byte range in the file.
        let begin: Int
        let end: Int

        /// Row-major shape (outermost first), as Hugging Face tensors are written.
        public var shape: [Int] { dimensions.reversed() }
        public var typeName: String { type.name }
        public var byteCount: Int { end - begin }
    }

    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    public let tensors: [String: TensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    public let alignment: Int
    private let file: MappedFile

    /// Nesting limit of metadata arrays (real files nest at most once).
    static let maxArrayDepth = 4

    public init(path: String) throws(ModelLoadError) {
        self.path = path
        file = try MappedFile(path: path)
        var cursor = GGUFCursor(bytes: file.bytes, path: path)
        let magic = try cursor.read(UInt32.self, "the magic number")
        guard magic == 0x4655_4747 else {   // "GGUF" little-endian
            let found = withUnsafeBytes(of: magic.littleEndian) { Array($0) }
            throw .ggufBadMagic(file: path, found: found.allSatisfy { $0 >= 32 && $0 < 127 }
                ? "\"" + String(decoding: found, as: UTF8.self) + "\"" : found.map { String($0, radix: 16) }.joined(separator: " "))
        }
        version = try cursor.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else { throw .ggufUnsupportedVersion(file: path, version: version) }
        let tensorCount = try cursor.read(UInt64.self, "the tensor count")
        let metadataCount = try cursor.read(UInt64.self, "the metadata count")
        try cursor.ensure(count: metadataCount, minimumSize: 13, "metadata")
        var metadata: [String: GGUFValue] = [:]
        for index in 0..<Int(metadataCount) {
            let key = try cursor.readString("metadata key \(index)")
            let type = try cursor.read(UInt32.self, "the type of \(key)")
            metadata[key] = try Self.readValue(type: type, key: key, cursor: &cursor, depth: 0)
        }
        self.metadata = metadata

        let alignment = metadata["general.alignment"]?.intValue ?? 32
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw .ggufInvalidMetadata(file: path, key: "general.alignment", reason: "must be a power of two, got \(alignment)")
        }
        self.alignment = alignment

        try cursor.ensure(count: tensorCount, minimumSize: 24, "tensor infos")
        var raw: [(name: String, dimensions: [Int], type: UInt32, offset: UInt64)] = []
        for index in 0..<Int(tensorCount) {
            let name = try cursor.readString("the name of tensor \(index)")
            let rank = try cursor.read(UInt32.self, "the rank of \(name)")
            guard rank >= 1, rank <= 4 else { throw .ggufInvalidTensor(file: path, tensor: name, reason: "rank \(rank) is not 1 to 4") }
            var dimensions: [Int] = []
            for axis in 0..<Int(rank) {
                let size = try cursor.read(UInt64.self, "dimension \(axis) of \(name)")
                guard size <= UInt64(Int32.max) else { throw .ggufInvalidTensor(file: path, tensor: name, reason: "dimension \(size) is implausible") }
                dimensions.append(Int(size))
            }
            let type = try cursor.read(UInt32.self, "the type of \(name)")
            let offset = try cursor.read(UInt64.self, "the offset of \(name)")
            raw.append((name, dimensions, type, offset))
        }
        let dataStart = (cursor.offset + alignment - 1) / alignment * alignment
        let available = max(0, file.count - dataStart)

        var tensors: [String: TensorInfo] = [:]
        for entry in raw {
            guard let type = GGMLType.known[entry.type] else {
                throw .ggufUnknownTensorType(file: path, tensor: entry.name, type: entry.type)
            }
            guard tensors[entry.name] == nil else { throw .ggufInvalidTensor(file: path, tensor: entry.name, reason: "appears twice") }
            guard entry.dimensions[0] % type.blockValues == 0 else {
                throw .ggufInvalidTensor(file: path, tensor: entry.name, reason: "rows of \(entry.dimensions[0]) values are not whole \(type) blocks of \(type.blockValues)")
            }
            var elements = 1, overflow = false
            for size in entry.dimensions {
                let (product, o) = elements.multipliedReportingOverflow(by: size)
                elements = product
                overflow = overflow || o
            }
            let (bytes, o2) = (elements / type.blockValues).multipliedReportingOverflow(by: type.blockBytes)
            guard !overflow, !o2, entry.offset <= UInt64(Int.max / 2) else {
                throw .ggufInvalidTensor(file: path, tensor: entry.name, reason: "size overflows")
            }
            let begin = Int(entry.offset), end = begin + bytes
            guard begin % alignment == 0 else {
                throw .ggufInvalidTensor(file: path, tensor: entry.name, reason: "offset \(begin) is not a multiple of the alignment \(alignment)")
            }
            guard end <= available else {
                throw .tensorOutOfBounds(file: path, tensor: entry.name, begin: begin, end: end, available: available)
            }
            tensors[entry.name] = TensorInfo(name: entry.name, dimensions: entry.dimensions, type: type,
                                             begin: dataStart + begin, end: dataStart + end)
        }
        self.tensors = tensors
        tensorNames = raw.map(\.name)
    }

    /// A view of tensor `name` aliasing the mapping, shaped row-major ([N, K] for a matrix).
    public func tensor(_ name: String) throws(ModelLoadError) -> HostTensor {
        guard let info = tensors[name] else { throw .missingTensor(tensor: name, searched: path) }
        guard let dtype = info.type.dtype else { throw .unsupportedDType(file: path, tensor: name, dtype: info.type.name) }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[info.begin..<info.end])
        return HostTensor(name: name, dtype: dtype, shape: Shape(info.shape), bytes: bytes, owner: file)
    }

    // MARK: Metadata values

    private static func readValue(type: UInt32, key: String, cursor: inout GGUFCursor, depth: Int) throws(ModelLoadError) -> GGUFValue {
        switch type {
        case 0: return .uint(UInt64(try cursor.read(UInt8.self, key)))
        case 1: return .int(Int64(try cursor.read(Int8.self, key)))
        case 2: return .uint(UInt64(try cursor.read(UInt16.self, key)))
        case 3: return .int(Int64(try cursor.read(Int16.self, key)))
        case 4: return .uint(UInt64(try cursor.read(UInt32.self, key)))
        case 5: return .int(Int64(try cursor.read(Int32.self, key)))
        case 6: return .float(Double(Float(bitPattern: try cursor.read(UInt32.self, key))))
        case 7:
            let raw = try cursor.read(UInt8.self, key)
            guard raw <= 1 else { throw .ggufInvalidMetadata(file: cursor.path, key: key, reason: "boolean byte \(raw) is not 0 or 1") }
            return .bool(raw == 1)
        case 8: return .string(try cursor.readString(key))
        case 9:
            guard depth < maxArrayDepth else { throw .ggufInvalidMetadata(file: cursor.path, key: key, reason: "arrays nest deeper than \(maxArrayDepth)") }
            let elementType = try cursor.read(UInt32.self, "the element type of \(key)")
            let count = try cursor.read(UInt64.self, "the length of \(key)")
            try cursor.ensure(count: count, minimumSize: minimumSize(of: elementType), key)
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                values.append(try readValue(type: elementType, key: key, cursor: &cursor, depth: depth + 1))
            }
            return .array(values)
        case 10: return .uint(try cursor.read(UInt64.self, key))
        case 11: return .int(try cursor.read(Int64.self, key))
        case 12: return .float(Double(bitPattern: try cursor.read(UInt64.self, key)))
        default: throw .ggufInvalidMetadata(file: cursor.path, key: key, reason: "unknown value type \(type)")
        }
    }

    /// Smallest encoding of a value of `type` (strings: their 8-byte length; arrays: type + count).
    private static func minimumSize(of type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        case 9: 12
        default: 1
        }
    }
}
