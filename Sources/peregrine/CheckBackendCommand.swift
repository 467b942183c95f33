import ArgumentParser
import Foundation
import LMBackendConformance
import LMCPU
import LMCUDA
import LMModels
import LMTensor

/// `peregrine check-backend`: every op of a backend against the CPU reference on fresh random
/// inputs (like llama.cpp's test-backend-ops); exits non-zero on any failure.
struct CheckBackendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-backend",
        abstract: "Check every op of a backend against the CPU reference on random inputs.")

    @Option(help: "The backend to check: cuda, or cpu (the portable kernels against the best this CPU has).")
    var device = "cuda"

    @Option(help: "Seed for the random inputs.")
    var seed: UInt64 = 1

    @Option(help: "Also compare greedy decoding of this model (teacher-forced) on both backends, step by step.")
    var model: [String] = []

    @Option(help: "Greedy steps per model.")
    var steps = 32

    func validate() throws {
        guard ["cpu", "cuda"].contains(device) else { throw ValidationError("--device must be cpu or cuda, got \(device)") }
    }

    func run() throws {
        let reference = try CPUBackend()
        let candidate: any Backend = device == "cuda"
            ? try CUDABackend(environment: ProcessInfo.processInfo.environment)
            : try CPUBackend(isa: .portable)
        var conformance = BackendConformance(reference: reference, candidate: candidate, seed: seed)
        let results = try conformance.run()
        var table = TextTable(header: ["op", "shape", "rel. error", "bound", "unwritten", "result"])
        for r in results {
            table.rows.append([r.op, r.shape, String(format: "%.2e", r.relativeError), String(format: "%.0e", r.bound), "\(r.poisoned)",
                               r.passed ? "ok" : "FAIL"])
        }
        print("\(candidate.name) against \(reference.name), seed \(seed)\n")
        print(table.render())
        let failed = results.filter { !$0.passed }.count
        print("\n\(results.count - failed) of \(results.count) passed")
        if let cuda = candidate as? CUDABackend {
            print("kernel modules compiled by NVRTC in this run: \(cuda.device.compiledCount) (0 when the disk cache had them)")
        }
        var disagreements = 0
        for path in model {
            disagreements += try compareGreedy(path, reference: reference, candidate: candidate)
        }
        if failed > 0 || disagreements > 0 { throw ExitCode(1) }
    }

    /// Prints the per-step agreement of one model; returns the steps whose disagreement bf16
    /// rounding cannot explain (the candidate picked a token the reference ranks clearly lower).
    private func compareGreedy(_ path: String, reference: any Backend, candidate: any Backend) throws -> Int {
        let spec = try ModelLoader.inspect(path: path).1
        try BackendOptions.checkSupported(spec, on: candidate)
        let a = try ModelLoader.load(path: path, backend: reference).model, b = try ModelLoader.load(path: path, backend: candidate).model
        let prompt: [Int32] = [1, 15, 27, 300, 42, 7, 99].map { $0 % Int32(spec.vocabSize) }
        let result = try GreedyAgreement.run(reference: a, candidate: b, prompt: prompt, steps: steps)
        let flips = result.filter { !$0.agree }
        // A flip is explained by rounding when the candidate's pick trails the reference's best by
        // no more than four times the RMS difference of the two backends' logits at that step.
        let unexplained = flips.filter { !$0.explained }
        let worst = result.map(\.relativeError).max() ?? 0
        print("\n\(path.split(separator: "/").last ?? ""): \(result.count) teacher-forced greedy steps, logits rel. error max \(String(format: "%.2e", worst)), "
              + "\(flips.count) argmax flips" + (flips.isEmpty ? "" : " at positions \(flips.map { String($0.position) }.joined(separator: ", "))"))
        for flip in flips {
            print("  position \(flip.position): reference top-2 gap \(String(format: "%.4f", flip.referenceGap)), candidate's pick "
                  + "\(String(format: "%.4f", flip.candidateShortfall)) below the reference's best (logit noise \(String(format: "%.4f", flip.noise)))"
                  + (flip.explained ? ": a near tie" : ": NOT a near tie"))
        }
        if !unexplained.isEmpty { print("  FAIL: \(unexplained.count) flips are not near ties") }
        let overlap = try compareOverlap(b, vocabulary: spec.vocabSize)
        guard let cuda = candidate as? CUDABackend else { return unexplained.count + overlap }
        guard spec.experts == nil else {
            print("  CUDA graphs: none (a mixture of experts routes on the host, so its steps run eagerly)")
            return unexplained.count + overlap
        }
        return unexplained.count + overlap + (try compareReplay(path, prompt: prompt, recording: cuda))
    }

    /// Steps launched ahead (tokens fed on the device) against steps read back one at a time, on
    /// the candidate, greedy and with seeded draws, penalties and logprobs: the same plans, so the
    /// tokens and logprobs must be identical. Returns the count of mismatches.
    private func compareOverlap(_ model: DecoderModel, vocabulary: Int) throws -> Int {
        let prompts = (0..<8).map { r in (0..<(5 + 3 * r)).map { Int32((r * 131 + $0 * 17 + 1) % vocabulary) } }
        var mismatches = 0
        let settings = [("greedy", OverlapAgreement.greedy), ("greedy with penalties", OverlapAgreement.penalizedGreedy),
                        ("seeded draws with penalties", OverlapAgreement.penalizedDraws),
                        ("seeded draws with penalties and logprobs", OverlapAgreement.penalizedDrawsWithLogprobs)]
        for (name, parameters) in settings {
            let serial = try OverlapAgreement.run(model: model, prompts: prompts, maxTokens: steps, launchAhead: false, parameters: parameters)
            let overlapped = try OverlapAgreement.run(model: model, prompts: prompts, maxTokens: steps, launchAhead: true, parameters: parameters)
            let identical = serial.draws == overlapped.draws && serial.draws.allSatisfy { $0.count == steps }
                && serial.draws.joined().allSatisfy { ($0.logprob != nil) == (parameters.logprobs != nil) }
            let what = parameters.logprobs == nil ? "tokens" : "tokens and logprobs"
            print("  steps launched ahead, \(name): \(overlapped.launchedAhead) (\(prompts.count) requests x \(steps) tokens); "
                  + (identical ? "\(what) identical to steps read back one at a time" : "FAIL: \(what) differ from steps read back one at a time"))
            // A backend that samples on the host reads every draw back first.
            let launchesAhead = parameters.isGreedy || model.backend.samplesOnDevice
            if !identical || (overlapped.launchedAhead == 0) == launchesAhead { mismatches += 1 }
        }
        return mismatches
    }

    /// Decode steps replayed from CUDA graphs against the same steps launched op by op: the same
    /// kernels on the same inputs, so the logits must be bitwise identical. Returns 1 on a mismatch.
    private func compareReplay(_ path: String, prompt: [Int32], recording: CUDABackend) throws -> Int {
        let eager = try CUDABackend(environment: ProcessInfo.processInfo.environment, recordSteps: false)
        let before = recording.stepGraphCounts
        let a = try ModelLoader.load(path: path, backend: eager).model, b = try ModelLoader.load(path: path, backend: recording).model
        let result = try GreedyAgreement.run(reference: a, candidate: b, prompt: prompt, steps: steps)
        let after = recording.stepGraphCounts
        let mismatched = result.filter { $0.relativeError != 0 || !$0.agree }
        print("  CUDA graphs: \(after.recorded - before.recorded) recorded, \(after.replayed - before.replayed) of \(result.count) steps replayed; "
              + (mismatched.isEmpty ? "logits bitwise identical to eager launches" : "FAIL: logits differ from eager launches at positions \(mismatched.map { String($0.position) }.joined(separator: ", "))"))
        return mismatched.isEmpty && after.replayed > before.replayed ? 0 : 1
    }
}
