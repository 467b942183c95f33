import Foundation
import LMCPU
import LMModels
import Testing

/// The same weights stored as F32 and F16 instead of BF16 give the goldens too (bf16 values are
/// exact in f32, and in f16 wherever they are in its normal range).
@Suite struct CheckpointDTypeTests {
    @Test(arguments: ["F32", "F16"])
    func convertedCheckpointMatchesGolden(dtype: String) throws {
        let model = try ScratchModel(copying: "tiny-qwen2")
        defer { model.remove() }
        let (header, data) = try model.splitWeights()
        var newHeader: [String: Any] = [:]
        var newData = Data()
        for (name, value) in header.sorted(by: { $0.key < $1.key }) {
            guard var entry = value as? [String: Any], let offsets = entry["data_offsets"] as? [Int] else { continue }
            #expect(entry["dtype"] as? String == "BF16")
            let begin = newData.count
            let raw = data.subdata(in: offsets[0]..<offsets[1])
            raw.withUnsafeBytes { bytes in
                for i in 0..<(raw.count / 2) {
                    let value = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                    if dtype == "F32" {
                        withUnsafeBytes(of: value.bitPattern.littleEndian) { newData.append(contentsOf: $0) }
                    } else {
                        withUnsafeBytes(of: Float16(value).bitPattern.littleEndian) { newData.append(contentsOf: $0) }
                    }
                }
            }
            entry["dtype"] = dtype
            entry["data_offsets"] = [begin, newData.count]
            newHeader[name] = entry
        }
        try model.writeWeights(header: newHeader, data: newData)

        let backend = try CPUBackend(threads: 2)
        let loaded = try ModelLoader.load(path: model.directory, backend: backend)
        let golden = try Fixtures.golden("tiny-qwen2").cases["len40"]!
        let logits = try SequenceSession(model: loaded.model).extend(golden.inputIds, logits: .all)
        #expect(backend.argmax(logits) == golden.argmax)
        let values = backend.download(logits)
        let last = Array(values[((golden.inputIds.count - 1) * loaded.spec.vocabSize)...])
        #expect(relativeL2(last, golden.lastLogits) < 1e-4, "\(dtype): \(relativeL2(last, golden.lastLogits))")
    }
}
