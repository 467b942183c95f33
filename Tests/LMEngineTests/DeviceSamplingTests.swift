import LMEngine
import LMTensor
import Testing

/// The device sampler's reference (`SamplingRow`) against the host sampler: for the same request
/// and the same draw from its seeded stream they pick the same token.
@Suite struct DeviceSamplingTests {
    @Test(arguments: [
        (temperature: Float(0.7), topK: 0, topP: Float(1), minP: Float(0)),
        (1, 5, 1, 0), (0.8, 0, 0.9, 0), (1.3, 0, 1, 0.1), (0.9, 20, 0.8, 0.02), (0, 0, 1, 0),
    ])
    func referenceMatchesTheHostSampler(setting: (temperature: Float, topK: Int, topP: Float, minP: Float)) {
        var parameters = SamplingParameters()
        parameters.temperature = setting.temperature
        parameters.topK = setting.topK
        parameters.topP = setting.topP
        parameters.minP = setting.minP
        parameters.seed = 42
        // Distinct random logits; ties are the next test's.
        var generator = RandomSource(seed: 7)
        expectSameDraws(parameters, logits: (0..<500).map { _ in Float(generator.nextUnit() * 8 - 4) })
    }

    /// Logits tied at the top-k and top-p thresholds: both samplers keep every tied token.
    @Test func tiesAtAThresholdAreKeptByBoth() {
        let logits: [Float] = [3, 2, 2, 2, 1, 0.5, 2, -1]
        for (topK, topP) in [(2, Float(1)), (3, 1), (0, 0.5), (0, 0.75)] {
            var parameters = SamplingParameters()
            parameters.topK = topK
            parameters.topP = topP
            parameters.seed = 3
            expectSameDraws(parameters, logits: logits)
        }
    }

    /// 64 draws of one request from the same logits by both samplers, each from its own copy of
    /// the request's state.
    private func expectSameDraws(_ parameters: SamplingParameters, logits: [Float]) {
        var host = SamplingState(parameters: parameters, prompt: [], stopTokens: [])
        var device = host
        for draw in 0..<64 {
            var row = logits
            let expected = row.withUnsafeMutableBufferPointer { Sampler().sample($0, &host).token }
            let settings = device.deviceRow()
            let actual = logits.withUnsafeBufferPointer { settings.choose($0) }
            device.record(actual)
            let setting = "T \(parameters.temperature), top-k \(parameters.topK), top-p \(parameters.topP), min-p \(parameters.minP)"
            #expect(actual == expected, "\(setting), draw \(draw): device reference \(actual), host sampler \(expected)")
        }
    }

    @Test func greedyRowsDrawNothingFromTheStream() {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        var state = SamplingState(parameters: parameters, prompt: [], stopTokens: [])
        #expect(state.deviceRow() == .greedy)
        #expect(state.random.counter == 0)
    }
}
