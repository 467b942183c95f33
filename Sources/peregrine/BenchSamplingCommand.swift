import ArgumentParser
import LMCPU
import LMEngine
import LMTensor

/// The host's share of a sampled step with penalties: every running request's logit edits
/// (repetition over prompt and output, presence/frequency over the output, one pending draw
/// counted) gathered for the device, then each drawn token recorded. This runs on the CPU while
/// the device computes the step (launch-ahead), so it must stay well under a step's time.
struct BenchSamplingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sampling",
        abstract: "Host cost per step of a batch's logit edits (penalties) and token records, with long prompts (no model).")

    @Option(help: "Running requests.")
    var requests: Int = 64

    @Option(help: "Prompt tokens per request (random ids, so nearly all distinct up to the vocabulary).")
    var promptTokens: Int = 1024

    @Option(help: "Steps to time.")
    var steps: Int = 200

    @Option(help: "Vocabulary size.")
    var vocabulary: Int = 128_256

    func validate() throws {
        guard (1...4096).contains(requests) else { throw ValidationError("--requests must be between 1 and 4096, got \(requests)") }
        guard (1...1_000_000).contains(promptTokens) else {
            throw ValidationError("--prompt-tokens must be between 1 and 1000000, got \(promptTokens)")
        }
        guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be between 1 and 100000, got \(steps)") }
        guard (2...1_000_000).contains(vocabulary) else { throw ValidationError("--vocabulary must be between 2 and 1000000, got \(vocabulary)") }
    }

    func run() throws {
        var parameters = SamplingParameters()
        parameters.temperature = 0.8
        parameters.repetitionPenalty = 1.1
        parameters.frequencyPenalty = 0.5
        parameters.presencePenalty = 0.2
        var random = RandomSource(seed: 1)
        func token() -> Int32 { Int32(random.nextUnit() * Double(vocabulary)) % Int32(vocabulary) }
        var states = (0..<requests).map { _ in
            SamplingState(parameters: parameters, prompt: (0..<promptTokens).map { _ in token() }, stopTokens: [])
        }
        var editSeconds = 0.0, recordSeconds = 0.0, editCount = 0
        for _ in 0..<steps {
            var start = monotonicSeconds()
            var edits: [LogitEdit] = [], pending: [PendingDraw] = []
            for (row, state) in states.enumerated() {
                state.appendLogitEdits(row: Int32(row), vocabulary: vocabulary, pendingTokens: 1, to: &edits)
                if let draw = state.pendingDraw(row: Int32(row), sourceIndex: Int32(row)) { pending.append(draw) }
            }
            editSeconds += monotonicSeconds() - start
            editCount += edits.count
            guard pending.count == requests else { throw CLIError("internal: \(pending.count) pending draws for \(requests) requests") }
            let drawn = (0..<requests).map { _ in token() }
            start = monotonicSeconds()
            for row in states.indices { states[row].record(drawn[row]) }
            recordSeconds += monotonicSeconds() - start
        }
        let e = editSeconds / Double(steps) * 1e6, r = recordSeconds / Double(steps) * 1e6
        var table = TextTable(header: ["requests", "prompt tokens", "edits per step", "edits µs/step", "record µs/step", "total µs/step"])
        table.rows.append(["\(requests)", "\(promptTokens)", "\(editCount / steps)", format(e, decimals: 1), format(r, decimals: 1), format(e + r, decimals: 1)])
        print("logit edits of a sampled batch (repetition 1.1, frequency 0.5, presence 0.2; one pending draw per request), "
              + "vocabulary \(vocabulary), \(steps) steps, on \(CPUInfo.modelName)\n")
        print(table.render())
    }
}
