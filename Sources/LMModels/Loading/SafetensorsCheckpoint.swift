#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LMTensor

/// The weights of a Hugging Face model folder: `model.safetensors`, or the shards listed by
/// `model.safetensors.index.json` (`weight_map`: tensor name -> shard file).
public final class SafetensorsCheckpoint: WeightSource, @unchecked Sendable {
    public let directory: String
    private let files: [String: SafetensorsFile]   // by file name
    private let location: [String: String]         // tensor name -> file name

    public init(directory: String) throws(ModelLoadError) {
        self.directory = directory
        let indexPath = directory + "/model.safetensors.index.json"
        let singlePath = directory + "/model.safetensors"
        if fileExists(indexPath) {
            let weightMap = try Self.readIndex(indexPath)
            var files: [String: SafetensorsFile] = [:]
            for shard in Set(weightMap.values).sorted() {
                guard !shard.contains("/") else { throw .invalidIndex(file: indexPath, reason: "shard \"\(shard)\" is not a file name in the folder") }
                files[shard] = try SafetensorsFile(path: directory + "/" + shard)
            }
            for (tensor, shard) in weightMap where files[shard]?.entries[tensor] == nil {
                throw .missingTensor(tensor: tensor, searched: directory + "/" + shard + " (listed there by model.safetensors.index.json)")
            }
            self.files = files
            location = weightMap
        } else if fileExists(singlePath) {
            let file = try SafetensorsFile(path: singlePath)
            files = ["model.safetensors": file]
            location = Dictionary(uniqueKeysWithValues: file.entries.keys.map { ($0, "model.safetensors") })
        } else {
            throw .notAModel(path: directory, reason: "no model.safetensors or model.safetensors.index.json")
        }
    }

    public var description: String { directory }
    public var tensorNames: [String] { location.keys.sorted() }

    public func contains(_ name: String) -> Bool { location[name] != nil }

    /// Tensor count and bytes per dtype name ("BF16": (291, 270_000_000)).
    public var dtypeSummary: [String: (tensors: Int, bytes: Int)] {
        var summary: [String: (tensors: Int, bytes: Int)] = [:]
        for file in files.values {
            for entry in file.entries.values {
                summary[entry.dtype.rawValue, default: (0, 0)].tensors += 1
                summary[entry.dtype.rawValue, default: (0, 0)].bytes += entry.end - entry.begin
            }
        }
        return summary
    }

    public var fileCount: Int { files.count }

    public func tensor(_ name: String) throws(ModelLoadError) -> HostTensor {
        guard let fileName = location[name], let file = files[fileName] else {
            throw .missingTensor(tensor: name, searched: files.count == 1 ? directory + "/model.safetensors" : directory + " (all shards)")
        }
        return try file.tensor(name)
    }

    public func file(of name: String) -> String {
        location[name].map { directory + "/" + $0 } ?? directory
    }

    private struct Index: Decodable {
        let weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    private static func readIndex(_ path: String) throws(ModelLoadError) -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .cannotOpen(file: path, reason: "\(error)")
        }
        do { return try JSONDecoder().decode(Index.self, from: data).weightMap } catch {
            throw .invalidIndex(file: path, reason: "expected {\"weight_map\": {tensor: file}}: \(error)")
        }
    }
}
