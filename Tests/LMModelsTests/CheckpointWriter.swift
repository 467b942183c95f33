import Foundation
import LMModels

/// Builds model folders for the error tests: a copy of a fixture model whose config or
/// safetensors bytes a test then damages.
struct ScratchModel {
    let directory: String

    /// A fresh folder holding a copy of fixture `name` (config, generation config, weights).
    init(copying name: String) throws {
        directory = NSTemporaryDirectory() + "peregrine-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: Fixtures.model(name)) where !file.hasPrefix("golden") {
            try FileManager.default.copyItem(atPath: Fixtures.model(name) + "/" + file, toPath: directory + "/" + file)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    var weightsPath: String { directory + "/model.safetensors" }

    func read(_ file: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)) }
    func write(_ data: Data, to file: String) throws { try data.write(to: URL(fileURLWithPath: directory + "/" + file)) }

    /// The JSON header and data section of model.safetensors.
    func splitWeights() throws -> (header: [String: Any], data: Data) {
        let bytes = try read("model.safetensors")
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + length))) as! [String: Any]
        return (header, bytes.subdata(in: (8 + length)..<bytes.count))
    }

    /// Writes model.safetensors from a header (re-serialised) and data.
    func writeWeights(header: [String: Any], data: Data) throws {
        try writeWeights(rawHeader: JSONSerialization.data(withJSONObject: header), data: data)
    }

    func writeWeights(rawHeader: Data, data: Data, claimedLength: UInt64? = nil) throws {
        var length = claimedLength ?? UInt64(rawHeader.count)
        var file = Data(bytes: &length, count: 8)
        file.append(rawHeader)
        file.append(data)
        try write(file, to: "model.safetensors")
    }

    /// Edits config.json as a dictionary.
    func editConfig(_ edit: (inout [String: Any]) -> Void) throws {
        var config = try JSONSerialization.jsonObject(with: read("config.json")) as! [String: Any]
        edit(&config)
        try write(JSONSerialization.data(withJSONObject: config), to: "config.json")
    }
}
