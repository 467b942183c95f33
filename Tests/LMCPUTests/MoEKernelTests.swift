import Foundation
import LMCPU
import LMTensor
import Testing

/// The mixture-of-experts op against routing and experts computed directly.
@Suite struct MoEKernelTests {
    @Test(arguments: [true, false])
    func matchesDirectComputation(renormalize: Bool) throws {
        let backend = try CPUBackend(threads: 2)
        var random = Reference.Random(seed: 21)
        let t = 9, c = 12, f = 20, e = 5, k = 2
        let x = random.floats(t * c), logits = random.floats(t * e, scale: 3)
        let weights = (0..<e).map { _ in (gate: random.floats(f * c), up: random.floats(f * c), down: random.floats(c * f)) }
        let experts = try weights.map {
            ExpertWeights(gate: try Reference.tensor(backend, $0.gate, Shape(f, c)), up: try Reference.tensor(backend, $0.up, Shape(f, c)),
                          down: try Reference.tensor(backend, $0.down, Shape(c, f)))
        }
        let out = try backend.allocate(Shape(t, c), dtype: .f32)
        backend.mixtureOfExperts(try Reference.tensor(backend, x, Shape(t, c)), routerLogits: try Reference.tensor(backend, logits, Shape(t, e)),
                                 experts: experts, routing: ExpertRouting(topK: k, renormalize: renormalize), out: out)
        var expected: [Float] = []
        for i in 0..<t {
            let row = Array(x[(i * c)..<((i + 1) * c)])
            let z = logits[(i * e)..<((i + 1) * e)].map(Double.init)
            let top = z.max()!
            let p = z.map { exp($0 - top) }
            let probabilities = p.map { $0 / p.reduce(0, +) }
            let chosen = probabilities.enumerated().sorted { $0.element > $1.element }.prefix(k)
            let total = renormalize ? chosen.map(\.element).reduce(0, +) : 1
            var sum = [Double](repeating: 0, count: c)
            for (expert, probability) in chosen {
                let g = Reference.linear(row, weights[expert].gate, nil, t: 1, n: f, k: c)
                let u = Reference.linear(row, weights[expert].up, nil, t: 1, n: f, k: c)
                let hidden = zip(g, u).map { Float(Double($0) / (1 + exp(-Double($0))) * Double($1)) }
                let d = Reference.linear(hidden, weights[expert].down, nil, t: 1, n: c, k: f)
                for j in 0..<c { sum[j] += probability / total * Double(d[j]) }
            }
            expected += sum.map(Float.init)
        }
        #expect(Reference.maxRelativeError(backend.download(out), expected) < 1e-5)
    }
}

/// Routing on the host from router logits (what the CUDA backend does before its experts run).
@Suite struct ExpertRoutingTests {
    @Test func routesTheTopExpertsWithSoftmaxWeights() {
        // Token 0: logits 0, 1, 3, 2 -> experts 2 and 3; token 1: a tie between 0 and 3 goes to 0.
        let logits: [Float] = [0, 1, 3, 2, 5, -1, 0, 5]
        let renormalized = ExpertRouting(topK: 2, renormalize: true).route(logits: logits, tokens: 2, experts: 4)
        #expect(renormalized.experts == [2, 3, 0, 3])
        #expect(abs(renormalized.weights[0] - Float(exp(3.0) / (exp(3.0) + exp(2.0)))) < 1e-6)
        #expect(abs(renormalized.weights[2] - 0.5) < 1e-6 && abs(renormalized.weights[3] - 0.5) < 1e-6)
        let plain = ExpertRouting(topK: 1, renormalize: false).route(logits: logits, tokens: 2, experts: 4)
        #expect(plain.experts == [2, 0])
        let total = Float(exp(0.0) + exp(1.0) + exp(3.0) + exp(2.0))
        #expect(abs(plain.weights[0] - Float(exp(3.0)) / total) < 1e-6)
    }

    /// NaN logits (a diverged activation) leave nothing to choose: no expert, no crash.
    @Test func nanLogitsChooseNoExpert() {
        let routed = ExpertRouting(topK: 2, renormalize: true).route(logits: [.nan, .nan, .nan, 1, 2, 3], tokens: 2, experts: 3)
        #expect(routed.experts == [-1, -1, 2, 1])
        #expect(routed.weights[0] == 0 && routed.weights[1] == 0)
    }
}
