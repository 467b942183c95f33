import Foundation
import LMEngine
import Testing

/// The sampler's transforms and draws against their definitions.
@Suite struct SamplerTests {
    static let logits: [Float] = [2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -3.0]

    /// Draws `count` tokens and returns their frequencies.
    func histogram(_ parameters: SamplingParameters, count: Int) -> [Int] {
        var state = SamplingState(parameters: parameters, prompt: [], stopTokens: [])
        var counts = [Int](repeating: 0, count: Self.logits.count)
        let sampler = Sampler()
        for _ in 0..<count {
            var row = Self.logits
            let token = row.withUnsafeMutableBufferPointer { sampler.sample($0, &state).token }
            counts[Int(token)] += 1
        }
        return counts
    }

    /// The distribution top-k / top-p / min-p should leave: softmax(logits / T) restricted and renormalised.
    func expected(temperature: Double, keep: (Int, [Double]) -> Bool) -> [Double] {
        let scaled = Self.logits.map { Double($0) / temperature }
        let top = scaled.max()!
        let weights = scaled.map { exp($0 - top) }
        let probabilities = weights.map { $0 / weights.reduce(0, +) }
        let kept = probabilities.indices.map { keep($0, probabilities) ? probabilities[$0] : 0 }
        return kept.map { $0 / kept.reduce(0, +) }
    }

    /// Pearson's chi-square over the categories the expected distribution keeps; a token it
    /// excludes must never appear.
    func chiSquare(_ counts: [Int], _ expected: [Double]) -> (statistic: Double, degrees: Int) {
        let total = Double(counts.reduce(0, +))
        var statistic = 0.0, categories = 0
        for (count, p) in zip(counts, expected) {
            if p == 0 {
                #expect(count == 0, "a filtered-out token was drawn")
                continue
            }
            statistic += pow(Double(count) - total * p, 2) / (total * p)
            categories += 1
        }
        return (statistic, categories - 1)
    }

    @Test(arguments: [("plain", 0), ("topK", 1), ("topP", 2), ("minP", 3), ("temperature", 4)])
    func distributionsMatch(name: String, variant: Int) {
        var p = SamplingParameters()
        p.seed = 42
        var reference: [Double]
        switch variant {
        case 1:
            p.topK = 3
            reference = expected(temperature: 1) { i, _ in i < 3 }
        case 2:
            p.topP = 0.8
            reference = expected(temperature: 1) { i, probabilities in
                // The smallest prefix of the sorted distribution whose mass reaches 0.8 (sorted = index order here).
                probabilities[..<i].reduce(0, +) < 0.8
            }
        case 3:
            p.minP = 0.2
            reference = expected(temperature: 1) { i, probabilities in probabilities[i] >= 0.2 * probabilities.max()! }
        case 4:
            p.temperature = 0.5
            reference = expected(temperature: 0.5) { _, _ in true }
        default:
            reference = expected(temperature: 1) { _, _ in true }
        }
        let counts = histogram(p, count: 20_000)
        let (statistic, degrees) = chiSquare(counts, reference)
        // Critical values at p = 0.001 for up to 7 degrees of freedom.
        let critical = [0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32][degrees]
        #expect(statistic < critical, "\(name): chi-square \(statistic) with \(degrees) degrees of freedom")
    }

    @Test func seedsReproduceAndGreedyIsArgmax() {
        var p = SamplingParameters()
        p.seed = 7
        #expect(histogram(p, count: 500) == histogram(p, count: 500))
        p.temperature = 0
        #expect(histogram(p, count: 10) == [10, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func processorsFollowTheirDefinitions() {
        let sampler = Sampler()
        func processed(_ p: SamplingParameters, prompt: [Int32] = [], output: [Int32] = []) -> [Float] {
            var state = SamplingState(parameters: p, prompt: prompt, stopTokens: [7])
            for token in output { state.record(token) }
            var row = Self.logits
            var greedy = p
            greedy.temperature = 0
            row.withUnsafeMutableBufferPointer { buffer in
                for processor in sampler.processors where processor.applies(to: p) { processor.process(buffer, state) }
            }
            return row
        }
        var p = SamplingParameters()
        p.logitBias = [3: 10]
        #expect(processed(p)[3] == 10.5)
        p = SamplingParameters()
        p.repetitionPenalty = 2
        let repeated = processed(p, prompt: [0], output: [6])
        #expect(repeated[0] == 1.0 && repeated[6] == -2.0 && repeated[1] == 1.5)
        p = SamplingParameters()
        p.presencePenalty = 0.5
        p.frequencyPenalty = 0.25
        let penalised = processed(p, output: [1, 1, 2])
        #expect(penalised[1] == 1.5 - 0.5 - 0.5 && penalised[2] == 1.0 - 0.5 - 0.25 && penalised[0] == 2.0)
        p = SamplingParameters()
        p.minTokens = 2
        p.maxTokens = 4
        #expect(processed(p, output: [1])[7] == -.infinity)
        #expect(processed(p, output: [1, 2])[7] == -3.0)
    }
}
