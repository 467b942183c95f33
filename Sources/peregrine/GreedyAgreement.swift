import LMModels
import LMTensor

/// Greedy decoding of one model on two backends, teacher-forced: the reference picks every next
/// token and both backends see the same sequence, so each step's logits can be compared. Where
/// the argmaxes differ, the reference's gap between its top two logits says whether rounding
/// (bf16) explains it: a near tie flips, a clear winner must not.
struct GreedyAgreement {
    struct Step {
        var position: Int
        var relativeError: Double
        var agree: Bool
        /// Reference logit of its best token minus its second best.
        var referenceGap: Float
        /// Reference logit of its best minus that of the candidate's pick.
        var candidateShortfall: Float
        /// Root-mean-square difference of the two backends' logits: the rounding noise.
        var noise: Double

        /// A flip within a few times the noise is a near tie that rounding explains.
        var explained: Bool { agree || Double(candidateShortfall) <= 4 * noise }
    }

    static func run(reference: DecoderModel, candidate: DecoderModel, prompt: [Int32], steps: Int) throws -> [Step] {
        let a = try SequenceSession(model: reference, capacity: prompt.count + steps + 1)
        let b = try SequenceSession(model: candidate, capacity: prompt.count + steps + 1)
        var input = prompt
        var result: [Step] = []
        for _ in 0..<steps {
            let expected = reference.backend.download(try a.extend(input)), actual = candidate.backend.download(try b.extend(input))
            var difference = 0.0, norm = 0.0
            for (e, c) in zip(expected, actual) {
                difference += Double(c - e) * Double(c - e)
                norm += Double(e) * Double(e)
            }
            let best = expected.indices.max { expected[$0] < expected[$1] }!
            let pick = actual.indices.max { actual[$0] < actual[$1] }!
            let second = expected.indices.filter { $0 != best }.max { expected[$0] < expected[$1] }!
            result.append(Step(position: a.length - 1, relativeError: (difference / max(norm, 1e-30)).squareRoot(), agree: best == pick,
                               referenceGap: expected[best] - expected[second], candidateShortfall: expected[best] - expected[pick],
                               noise: (difference / Double(max(expected.count, 1))).squareRoot()))
            input = [Int32(best)]
        }
        return result
    }
}
