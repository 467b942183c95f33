import LMTensor

/// A request's standing logit edits (`logit_bias`, the repetition penalty over prompt and
/// output, presence and frequency penalties over the output), one per token, sorted by token and
/// updated as tokens are recorded: a step's edits are then a copy of this table instead of a
/// rebuild from the prompt and output sets, whose cost grows with the prompt every step.
struct StandingLogitEdits: Sendable {
    private let parameters: SamplingParameters
    /// Row 0, sorted by token, tokens at least 0.
    private var table: [LogitEdit] = []

    init(parameters p: SamplingParameters, promptTokens: Set<Int32>) {
        parameters = p
        var byToken: [Int32: LogitEdit] = [:]
        for (token, bias) in p.logitBias where token >= 0 { byToken[token, default: LogitEdit(row: 0, token: token)].bias = bias }
        if p.repetitionPenalty != 1 {
            for token in promptTokens where token >= 0 { byToken[token, default: LogitEdit(row: 0, token: token)].repetition = p.repetitionPenalty }
        }
        table = byToken.values.sorted { $0.token < $1.token }
        for i in table.indices { table[i].subtractIfDrawn = firstSubtract }
    }

    /// The presence and frequency penalties of a token produced `count` times (written once, so
    /// a draw counted on the device is the bits the host computes once it records it).
    static func subtraction(_ p: SamplingParameters, count: Int) -> Float {
        p.presencePenalty + p.frequencyPenalty * Float(count)
    }

    /// `subtract` of a token's first production (0 without presence or frequency penalties).
    var firstSubtract: Float { countsOutputs ? Self.subtraction(parameters, count: 1) : 0 }

    private var countsOutputs: Bool { parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0 }

    /// `token` was produced, `count` times now.
    mutating func record(_ token: Int32, count: Int) {
        guard parameters.editsDependOnOutputTokens, token >= 0 else { return }
        let i = Self.lowerBound(token, in: table)
        if i == table.count || table[i].token != token { table.insert(LogitEdit(row: 0, token: token, subtractIfDrawn: firstSubtract), at: i) }
        if parameters.repetitionPenalty != 1 { table[i].repetition = parameters.repetitionPenalty }
        if countsOutputs {
            table[i].subtract = Self.subtraction(parameters, count: count)
            table[i].subtractIfDrawn = Self.subtraction(parameters, count: count + 1)
        }
    }

    /// Appends the edits for row `row` of logits `vocabulary` wide to `edits`, with `banned`
    /// tokens (the min-tokens mask) set to -inf. Without bans the table goes straight into the
    /// batch's array: a step of 64 requests with 1,024-token prompts and a repetition penalty
    /// appends ~70,000 edits, so no copy in between.
    func append(row: Int32, vocabulary: Int, banning banned: [Int32], to edits: inout [LogitEdit]) {
        guard banned.isEmpty else { return edits += self.edits(row: row, vocabulary: vocabulary, banning: banned) }
        for var edit in table {
            if Int(edit.token) >= vocabulary { break }   // sorted by token
            edit.row = row
            edits.append(edit)
        }
    }

    /// The edits for row `row` of logits `vocabulary` wide, with `banned` tokens (the min-tokens
    /// mask) set to -inf.
    private func edits(row: Int32, vocabulary: Int, banning banned: [Int32]) -> [LogitEdit] {
        var edits = table
        for token in banned where token >= 0 {
            let i = Self.lowerBound(token, in: edits)
            if i == edits.count || edits[i].token != token { edits.insert(LogitEdit(row: 0, token: token, subtractIfDrawn: firstSubtract), at: i) }
            edits[i].ban = true
        }
        if let last = edits.last, Int(last.token) >= vocabulary { edits.removeAll { Int($0.token) >= vocabulary } }
        for i in edits.indices { edits[i].row = row }
        return edits
    }

    /// The first index whose token is not below `token`.
    private static func lowerBound(_ token: Int32, in edits: [LogitEdit]) -> Int {
        var low = 0, high = edits.count
        while low < high {
            let middle = (low + high) / 2
            if edits[middle].token < token { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
