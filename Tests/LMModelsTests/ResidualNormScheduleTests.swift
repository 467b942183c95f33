import LMCPU
import LMModels
import LMTensor
import Testing

/// The fused residual-norm schedule (`Backend.fusesResidualNorms`: residual adds inside the output
/// linears, norms inside the input ops) computes what the unfused layers do. On the CPU both run
/// the reference ops, so the logits agree bit for bit; models the schedule does not take (MoE,
/// per-head or sandwich norms) run unfused under either setting.
@Suite struct ResidualNormScheduleTests {
    @Test(arguments: ["tiny-llama", "tiny-qwen2", "tiny-llama3-rope", "tiny-mistral", "tiny-qwen3", "tiny-mixtral", "tiny-gemma3"])
    func fusedScheduleLeavesLogitsUnchanged(model name: String) throws {
        let plain = try CPUBackend(threads: 2), fused = try CPUBackend(threads: 2, residualNormSchedule: true)
        #expect(!plain.fusesResidualNorms(tokens: 1) && fused.fusesResidualNorms(tokens: 1))
        let ids: [Int32] = [1, 15, 27, 200, 42, 7, 99, 5]
        var logits: [[Float]] = []
        for backend in [plain, fused] {
            let loaded = try ModelLoader.load(path: Fixtures.model(name), backend: backend)
            let session = try SequenceSession(model: loaded.model)
            // A prompt, then single-token steps: both shapes of step through the schedule.
            var values = backend.download(try session.extend(Array(ids.prefix(5)), logits: .all))
            for id in ids.dropFirst(5) { values += backend.download(try session.extend([id], logits: .all)) }
            logits.append(values)
        }
        #expect(logits[0] == logits[1], "\(name)")
    }
}
