#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compiled kernels on disk, so a second start compiles nothing: one cubin per (source,
/// architecture, NVRTC version), named by a 128-bit hash of the three. Writes go through a
/// temporary file and a rename, so concurrent starts never read half a file.
struct KernelCache: Sendable {
    let directory: String

    /// `$PEREGRINE_HOME/kernels`, default `~/.cache/peregrine/kernels`.
    static func defaultDirectory(environment: [String: String]) -> String {
        let home = environment["PEREGRINE_HOME"] ?? ((environment["HOME"] ?? "/tmp") + "/.cache/peregrine")
        return home + "/kernels"
    }

    func path(name: String, source: String, architecture: Int, compilerVersion: String) -> String {
        let key = "\(source)\u{0}sm_\(architecture)\u{0}nvrtc \(compilerVersion)"
        return directory + "/\(name)-sm\(architecture)-\(Self.hash(key)).cubin"
    }

    func load(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes.isEmpty ? nil : bytes
    }

    /// Best effort: a cache that cannot be written only costs a compile next time.
    func store(_ bytes: [UInt8], at path: String) {
        var folder = ""
        for part in directory.split(separator: "/") {
            folder += "/" + part
            mkdir(folder, 0o755)
        }
        let temporary = path + ".\(getpid()).tmp"
        guard let file = fopen(temporary, "wb") else { return }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        if written == bytes.count { rename(temporary, path) } else { unlink(temporary) }
    }

    /// Two independent 64-bit FNV-1a hashes (different offsets), as 32 hex digits.
    static func hash(_ text: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b &* 0x0000_0100_0000_01b3) ^ UInt64(byte)
        }
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(a) + hex(b)
    }
}
