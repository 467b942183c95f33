/// Bounds-checked little-endian reads over a GGUF file's bytes. Every read that would pass the
/// end throws `truncated`, naming what was being read, so no input can crash the parser.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(ModelLoadError) -> T {
        guard remaining >= MemoryLayout<T>.size else { throw .ggufTruncated(file: path, reading: what(), offset: offset) }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    mutating func readString(_ what: @autoclosure () -> String) throws(ModelLoadError) -> String {
        let length = try read(UInt64.self, what())
        guard length <= UInt64(remaining) else {
            throw .ggufStringPastEnd(file: path, reading: what(), length: length, remaining: remaining)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))]), as: UTF8.self)
        offset += Int(length)
        return text
    }

    /// Checks that `count` items of at least `minimumSize` bytes could still follow, so a
    /// corrupt count cannot make the reader allocate or loop for billions of items.
    func ensure(count: UInt64, minimumSize: Int, _ what: @autoclosure () -> String) throws(ModelLoadError) {
        let (needed, overflow) = count.multipliedReportingOverflow(by: UInt64(minimumSize))
        guard !overflow, needed <= UInt64(remaining) else {
            throw .ggufTruncated(file: path, reading: "\(what()) (\(count) items)", offset: offset)
        }
    }
}
