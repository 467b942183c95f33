import LMCPU
@testable import LMModels
import LMTensor
import Testing

/// The profile run that sizes a GPU's KV cache: the largest step, split into sequences the
/// model accepts, on a throwaway cache; it leaves the model as it was.
@Suite struct PeakStepTests {
    @Test func peakStepRunsSplitSequencesAndChangesNothing() throws {
        let model = try ModelLoader.load(path: Fixtures.model("tiny-llama"), backend: Fixtures.backend).model
        let prompt: [Int32] = [3, 14, 15, 92, 65]
        let before = model.backend.download(try SequenceSession(model: model, capacity: 16).extend(prompt))
        // 70 tokens in sequences of at most 32 (32 + 32 + 6), logits for the last 5 rows.
        try model.runPeakStep(tokens: 70, logitRows: 5, maxSequenceLength: 32, blockSize: 4)
        try model.runPeakStep(tokens: 1, logitRows: 8, maxSequenceLength: 1)
        let after = model.backend.download(try SequenceSession(model: model, capacity: 16).extend(prompt))
        #expect(before == after)
    }
}
