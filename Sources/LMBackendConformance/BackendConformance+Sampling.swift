import LMTensor

extension BackendConformance {
    /// Device sampling against the reference: a greedy row must pick the reference's argmax; any
    /// other must pick a token the reference keeps, whose span of the running kept mass holds the
    /// target up to float summation error (1e-4 of the mass). The error reported is the fraction
    /// of rows outside that.
    mutating func sample(rows: Int, vocab: Int) throws -> [ConformanceResult] {
        let settings: [(String, SamplingRow)] = [
            ("greedy", .greedy), ("temperature 0.7", SamplingRow(temperature: 0.7)),
            ("top-k 40", SamplingRow(temperature: 1, topK: 40)), ("top-p 0.9", SamplingRow(temperature: 0.8, topP: 0.9)),
            ("min-p 0.05", SamplingRow(temperature: 1.2, minP: 0.05)),
            ("top-k 100, top-p 0.8, min-p 0.01", SamplingRow(temperature: 0.9, topK: 100, topP: 0.8, minP: 0.01)),
        ]
        var results: [ConformanceResult] = []
        for (name, setting) in settings {
            let values = random.values(rows * vocab, scale: 4)
            let logits = try candidate.allocate(Shape(rows, vocab), dtype: .f32)
            candidate.upload(values, to: logits)
            let draws = (0..<rows).map { _ in
                var row = setting
                row.uniform = Double(random.index(below: 1 << 20)) / Double(1 << 20)
                return row
            }
            let tokens = candidate.sample(logits, rows: draws)
            let failures = values.withUnsafeBufferPointer { all in
                draws.indices.filter { r in
                    !Self.accepts(Int(tokens[r]), draws[r], UnsafeBufferPointer(rebasing: all[(r * vocab)..<((r + 1) * vocab)]))
                }.count
            }
            results.append(ConformanceResult(op: "sample \(name)", shape: "[\(rows), \(vocab)]", relativeError: Double(failures) / Double(rows),
                                             bound: 0, poisoned: 0))
        }
        return results
    }

    /// Logit edits (penalties, biases, bans) against `LogitEdit.apply`: every edited logit must
    /// come out as the reference computes it (the same float operations, so exactly), the others
    /// untouched. The error reported is the fraction of logits that differ.
    /// `perRow` edits per row (past a launch's capped grid, 600,000 in all, the kernel must loop).
    mutating func editLogits(rows: Int, vocab: Int, perRow: Int) throws -> ConformanceResult {
        var values = random.values(rows * vocab, scale: 4)
        values[3] = 0   // a zero logit: neither divided nor multiplied by the repetition penalty
        let edits = [LogitEdit(row: 0, token: 3, repetition: 1.3)] + randomEdits(rows: rows, vocab: vocab, perRow: perRow, skipping: 3)
        return try compareEdits(values, Shape(rows, vocab), edits, name: "editLogits (penalties, bias, bans)") { logits in
            candidate.editLogits(logits, edits)
        }
    }

    /// Edits in a step launched before the previous step's draws were read back: some rows'
    /// drawn token (in a device tensor, never seen by the host) has an edit, others none, some
    /// rows drew nothing; `PendingDraw.resolve` with the drawn tokens is the reference.
    mutating func editLogitsWithPendingDraws(rows: Int, vocab: Int, perRow: Int) throws -> ConformanceResult {
        let values = random.values(rows * vocab, scale: 4)
        let edits = randomEdits(rows: rows, vocab: vocab, perRow: perRow, skipping: nil)
        let sources = rows + 8
        var tokens = (0..<sources).map { _ in Int32(random.index(below: vocab)) }
        var pending: [PendingDraw] = []
        for row in 0..<rows where row % 4 != 3 {
            let source = sources - 1 - row   // drawn rows need not line up with logits rows
            let edited = edits.filter { $0.row == Int32(row) }
            if row % 4 == 0, !edited.isEmpty { tokens[source] = edited[random.index(below: edited.count)].token }   // else a fresh token, mostly
            let amount = Float(random.index(below: 1 << 16)) / Float(1 << 15) - 1
            pending.append(PendingDraw(row: Int32(row), sourceIndex: Int32(source), repetition: row % 8 < 4 ? 1.25 : 1, firstSubtract: amount))
        }
        let drawn = try candidate.allocate(Shape(sources), dtype: .i32)
        candidate.upload(tokens, to: drawn)
        let resolved = PendingDraw.resolve(edits, pending, tokens: tokens)
        return try compareEdits(values, Shape(rows, vocab), resolved, name: "editLogits with pending draws") { logits in
            candidate.editLogits(logits, edits, pending: pending, drawn: drawn)
        }
    }

    /// Drawn tokens' logprobs against `TokenLogprobs`: ids exact (the random logits hold no ties
    /// but the planted ones, which must come out in id order), logprobs within float rounding of
    /// the log-sum-exp. The error reported is the largest logprob difference, or 1 for a wrong id.
    mutating func tokenLogprobs(rows: Int, vocab: Int, top: Int) throws -> ConformanceResult {
        var values = random.values(rows * vocab, scale: 6)
        values[5] = 7   // a tie in row 0 at its largest logit
        values[9] = 7
        let tokens = (0..<rows).map { _ in Int32(random.index(below: vocab)) }
        let logits = try candidate.allocate(Shape(rows, vocab), dtype: .f32)
        let drawn = try candidate.allocate(Shape(rows), dtype: .i32)
        let out = try candidate.allocate(Shape(rows, TokenLogprobs.words(top: top)), dtype: .i32)
        candidate.upload(values, to: logits)
        candidate.upload(tokens, to: drawn)
        candidate.upload([Int32](repeating: -7, count: out.elementCount), to: out)   // poisoned
        candidate.tokenLogprobs(logits, tokens: drawn, top: top, into: out)
        let words = candidate.startDownload(out).wait()   // exact i32 (a float download would round the bit patterns)
        var worst = 0.0
        values.withUnsafeBufferPointer { all in
            for r in 0..<rows {
                let expected = TokenLogprobs(UnsafeBufferPointer(rebasing: all[(r * vocab)..<((r + 1) * vocab)]), token: tokens[r], top: top)
                let actual = TokenLogprobs(words: words[(r * (1 + 2 * top))..<((r + 1) * (1 + 2 * top))], top: top)
                guard actual.topTokens == expected.topTokens else { worst = 1; continue }
                for (a, e) in zip([actual.logprob] + actual.topLogprobs, [expected.logprob] + expected.topLogprobs) {
                    worst = max(worst, Double(abs(a - e)) / max(1, Double(abs(e))))
                }
            }
        }
        return ConformanceResult(op: "tokenLogprobs (top \(top))", shape: "[\(rows), \(vocab)]", relativeError: worst, bound: 1e-5, poisoned: 0)
    }

    /// `perRow` edits of each row, sorted by row then token, of every kind (`skipping` one token).
    private mutating func randomEdits(rows: Int, vocab: Int, perRow: Int, skipping skipped: Int32?) -> [LogitEdit] {
        var edits: [LogitEdit] = []
        for row in 0..<rows {
            var tokens = Set<Int32>()
            while tokens.count < perRow { tokens.insert(Int32(random.index(below: vocab))) }
            if let skipped { tokens.remove(skipped) }
            for (i, token) in tokens.sorted().enumerated() {
                let amount = Float(random.index(below: 1 << 16)) / Float(1 << 15) - 1
                var edit: LogitEdit
                switch i % 5 {
                case 0: edit = LogitEdit(row: Int32(row), token: token, bias: amount)
                case 1: edit = LogitEdit(row: Int32(row), token: token, ban: true, repetition: 1.2)
                case 2: edit = LogitEdit(row: Int32(row), token: token, repetition: 1.5)
                case 3: edit = LogitEdit(row: Int32(row), token: token, subtract: amount)
                default: edit = LogitEdit(row: Int32(row), token: token, bias: amount, repetition: 0.8, subtract: 0.5)
                }
                edit.subtractIfDrawn = edit.subtract + 0.375
                edits.append(edit)
            }
        }
        return edits
    }

    /// Runs `apply` on the candidate's copy of `values` and counts the logits that differ from
    /// `edits` applied by the reference (`LogitEdit.apply`), as a fraction of all.
    private func compareEdits(_ values: [Float], _ shape: Shape, _ edits: [LogitEdit], name: String,
                                       _ apply: (Tensor) -> Void) throws -> ConformanceResult {
        let logits = try candidate.allocate(shape, dtype: .f32)
        candidate.upload(values, to: logits)
        var expected = values
        for edit in edits {
            let index = edit.index(in: shape)
            expected[index] = edit.apply(to: expected[index])
        }
        apply(logits)
        let actual = candidate.download(logits)
        let differing = zip(actual, expected).filter { $0 != $1 }.count
        return ConformanceResult(op: name, shape: "[\(shape[0]), \(shape[1])], \(edits.count) edits",
                                 relativeError: Double(differing) / Double(values.count), bound: 0, poisoned: 0)
    }

    /// The overlapped step's path: argmax into a device tensor, its download started, then (before
    /// waiting) some of the tokens copied into a next step's ids on the device and the logits
    /// overwritten by a second argmax. The download must hold the first argmax and the ids the
    /// copied tokens, the other ids untouched. The error reported is the count of wrong values.
    mutating func deferredTokens(rows: Int, vocab: Int, nextTokens: Int) throws -> ConformanceResult {
        let first = random.values(rows * vocab, scale: 4), second = random.values(rows * vocab, scale: 4)
        let logits = try candidate.allocate(Shape(rows, vocab), dtype: .f32)
        let samples = try candidate.allocate(Shape(rows), dtype: .i32), later = try candidate.allocate(Shape(rows), dtype: .i32)
        let ids = try candidate.allocate(Shape(nextTokens), dtype: .i32)
        let placeholders = (0..<nextTokens).map { Int32(-1 - $0) }
        candidate.upload(first, to: logits)
        candidate.argmax(logits, into: samples)
        let pending = candidate.startDownload(samples)
        // Every other sampled row feeds one of the next step's ids, in reverse order.
        let indices = stride(from: 0, to: rows, by: 2).map(Int32.init).prefix(nextTokens)
        let targets = indices.indices.map { Int32(nextTokens - 1 - $0) }
        candidate.upload(placeholders, to: ids)
        candidate.copyTokens(samples, indices: Array(indices), into: ids, rows: targets)
        candidate.upload(second, to: logits)
        candidate.argmax(logits, into: later)
        let drawn = pending.wait(), fed = candidate.download(ids).map { Int32($0) }, redrawn = candidate.download(later).map { Int32($0) }
        func argmaxes(_ values: [Float]) -> [Int32] {
            values.withUnsafeBufferPointer { all in (0..<rows).map { SamplingRow.argmax(UnsafeBufferPointer(rebasing: all[($0 * vocab)..<(($0 + 1) * vocab)])) } }
        }
        let expected = argmaxes(first)
        var expectedIDs = placeholders
        for (index, target) in zip(indices, targets) { expectedIDs[Int(target)] = expected[Int(index)] }
        let wrong = zip(drawn, expected).filter { $0 != $1 }.count + zip(fed, expectedIDs).filter { $0 != $1 }.count
            + zip(redrawn, argmaxes(second)).filter { $0 != $1 }.count
        return ConformanceResult(op: "argmax into, startDownload, copyTokens", shape: "[\(rows), \(vocab)] -> \(nextTokens) ids",
                                 relativeError: Double(wrong), bound: 0, poisoned: 0)
    }

    private static func accepts(_ token: Int, _ row: SamplingRow, _ logits: UnsafeBufferPointer<Float>) -> Bool {
        guard token >= 0, token < logits.count else { return false }
        guard let kept = row.keptWeights(logits) else { return Int32(token) == SamplingRow.argmax(logits) }
        let total = kept.reduce(0, +), target = row.uniform * total, slack = 1e-4 * total
        let before = kept[..<token].reduce(0, +)
        return kept[token] > 0 && target >= before - slack && target <= before + kept[token] + slack
    }
}
