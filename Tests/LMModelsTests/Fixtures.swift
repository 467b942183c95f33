import Foundation
import LMCPU
import LMModels
import LMTensor

/// Paths of the shared fixtures (`../shared/fixtures` beside the repository, or
/// `PEREGRINE_FIXTURES`) and the golden files' format (see the fixtures README).
enum Fixtures {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["PEREGRINE_FIXTURES"] { return path }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    /// A shared fixture model, or one of the repository's own (Tests/LMModelsTests/Fixtures,
    /// made by scripts/make-*-fixture.py where the shared set has no such architecture).
    static func model(_ name: String) -> String {
        let local = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name).path
        return FileManager.default.fileExists(atPath: local) ? local : root + "/models/" + name
    }

    static let modelNames = ["tiny-llama", "tiny-llama-sharded", "tiny-qwen2", "tiny-qwen3", "tiny-mistral", "tiny-mixtral", "tiny-llama3-rope", "tiny-gemma3"]

    struct Case: Decodable {
        let inputIds: [Int32]
        let lastLogits: [Float]
        let argmax: [Int32]
        let greedy: [Int32]
        enum CodingKeys: String, CodingKey {
            case inputIds = "input_ids", lastLogits = "last_logits", argmax, greedy
        }
    }

    struct Golden: Decodable {
        struct Batch: Decodable { let cases: [String: Case] }
        let cases: [String: Case]
        let batch: Batch
    }

    static func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: model(name) + "/golden.json")))
    }

    /// One backend per test process (its threads are reused by every test).
    static let backend: CPUBackend = try! CPUBackend()
}

/// ‖a − b‖ / ‖b‖
func relativeL2(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, norm = 0.0
    for i in a.indices {
        diff += Double(a[i] - b[i]) * Double(a[i] - b[i])
        norm += Double(b[i]) * Double(b[i])
    }
    return (diff / max(norm, 1e-30)).squareRoot()
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
