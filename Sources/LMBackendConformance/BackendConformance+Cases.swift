import LMTensor

extension BackendConformance {
    mutating func gatherRows(rows: Int, columns: Int) throws -> ConformanceResult {
        let sourceRows = 50
        let source = try pair(representable(random.values(sourceRows * columns)), Shape(sourceRows, columns))
        let indices = try indexPair((0..<rows).map { _ in Int32(random.index(below: sourceRows)) })
        let out = try outputs(Shape(rows, columns))
        reference.gatherRows(source.0, indices: indices.0, out: out.0)
        candidate.gatherRows(source.1, indices: indices.1, out: out.1)
        return compare("gatherRows", "[\(sourceRows), \(columns)] -> [\(rows), \(columns)]", out, bound: 0)
    }

    mutating func rmsNorm(rows: Int, columns: Int) throws -> ConformanceResult {
        let x = try pair(representable(random.values(rows * columns, scale: 3)), Shape(rows, columns))
        let w = try weight(representable(random.values(columns)), Shape(columns))
        let out = try outputs(Shape(rows, columns))
        reference.rmsNorm(x.0, weight: w.0, epsilon: 1e-5, out: out.0)
        candidate.rmsNorm(x.1, weight: w.1, epsilon: 1e-5, out: out.1)
        return compare("rmsNorm", "[\(rows), \(columns)]", out)
    }

    /// Both results of the fused op: the normed output and the updated residual.
    mutating func addRMSNorm(rows: Int, columns: Int) throws -> [ConformanceResult] {
        let shape = Shape(rows, columns)
        let residual = try pair(representable(random.values(rows * columns, scale: 3)), shape)
        let delta = try pair(representable(random.values(rows * columns)), shape)
        let w = try weight(representable(random.values(columns)), Shape(columns))
        let out = try outputs(shape)
        reference.addRMSNorm(residual.0, delta.0, weight: w.0, epsilon: 1e-5, out: out.0)
        candidate.addRMSNorm(residual.1, delta.1, weight: w.1, epsilon: 1e-5, out: out.1)
        return [compare("addRMSNorm", "[\(rows), \(columns)]", out), compare("addRMSNorm residual", "[\(rows), \(columns)]", residual)]
    }

    mutating func elementwise(rows: Int, columns: Int) throws -> ConformanceResult {
        let shape = Shape(rows, columns)
        let a = try pair(representable(random.values(rows * columns)), shape), b = try pair(representable(random.values(rows * columns)), shape)
        let out = try outputs(shape)
        reference.add(a.0, b.0, out: out.0)
        candidate.add(a.1, b.1, out: out.1)
        reference.scale(out.0, by: 0.37, out: out.0)
        candidate.scale(out.1, by: 0.37, out: out.1)
        return compare("add + scale", "[\(rows), \(columns)]", out)
    }

    mutating func gated(rows: Int, columns: Int) throws -> [ConformanceResult] {
        var results: [ConformanceResult] = []
        for activation in [Activation.silu, .geluTanh] {
            let shape = Shape(rows, columns)
            let gate = try pair(representable(random.values(rows * columns, scale: 4)), shape)
            let up = try pair(representable(random.values(rows * columns)), shape)
            let out = try outputs(shape)
            reference.gatedActivation(activation, gate: gate.0, up: up.0, out: out.0)
            candidate.gatedActivation(activation, gate: gate.1, up: up.1, out: out.1)
            results.append(compare("gatedActivation \(activation.rawValue)", "[\(rows), \(columns)]", out))
        }
        return results
    }

    mutating func linear(tokens: Int, inputs: Int, outputs n: Int, bias: Bool, output: DType) throws -> ConformanceResult {
        let x = try pair(representable(random.values(tokens * inputs)), Shape(tokens, inputs))
        let w = try weight(representable(random.values(n * inputs, scale: 1 / Float(inputs).squareRoot())), Shape(n, inputs))
        let b = bias ? try weight(representable(random.values(n)), Shape(n)) : nil
        let out = try outputs(Shape(tokens, n), dtype: output == .f32 ? .f32 : nil)
        reference.linear(x.0, weight: w.0, bias: b?.0, out: out.0)
        candidate.linear(x.1, weight: w.1, bias: b?.1, out: out.1)
        return compare("linear\(bias ? " + bias" : "")\(output == .f32 ? " -> f32" : "")", "[\(tokens), \(inputs)] x [\(n), \(inputs)]ᵀ", out)
    }

    /// An MLP's gated input: gate and up packed as the model loads them, then the activation.
    mutating func gatedLinear(tokens: Int, inputs: Int, hidden: Int, biased: Bool, activation: Activation) throws -> ConformanceResult {
        let x = try pair(representable(random.values(tokens * inputs)), Shape(tokens, inputs))
        var reference: [Projection] = [], candidate: [Projection] = []
        for _ in 0..<2 {
            let w = try weight(representable(random.values(hidden * inputs, scale: 2 / Float(inputs).squareRoot())), Shape(hidden, inputs))
            let b = biased ? try weight(representable(random.values(hidden)), Shape(hidden)) : nil
            reference.append(Projection(weight: w.0, bias: b?.0))
            candidate.append(Projection(weight: w.1, bias: b?.1))
        }
        let packed = try self.candidate.packRows(candidate.map(\.weight))
        candidate = zip(packed, candidate).map { Projection(weight: $0, bias: $1.bias) }
        let out = try outputs(Shape(tokens, hidden)), scratch = try outputs(Shape(tokens, hidden))
        self.reference.gatedLinear(x.0, gate: reference[0], up: reference[1], activation: activation, out: out.0, scratch: scratch.0)
        self.candidate.gatedLinear(x.1, gate: candidate[0], up: candidate[1], activation: activation, out: out.1, scratch: scratch.1)
        return compare("gatedLinear \(activation.rawValue)\(biased ? " + bias" : "")", "[\(tokens), \(inputs)] -> [\(tokens), \(hidden)]", out)
    }

    /// A sparse mixture of SiLU-gated experts; both backends route from the same f32 logits.
    mutating func mixtureOfExperts(tokens: Int, width: Int, hidden: Int, experts: Int, topK: Int, renormalize: Bool) throws -> ConformanceResult {
        let x = try pair(representable(random.values(tokens * width)), Shape(tokens, width))
        let logits = try pair(random.values(tokens * experts, scale: 2), Shape(tokens, experts), dtype: .f32)
        var reference: [ExpertWeights] = [], candidate: [ExpertWeights] = []
        for _ in 0..<experts {
            let gate = try weight(representable(random.values(hidden * width, scale: 1 / Float(width).squareRoot())), Shape(hidden, width))
            let up = try weight(representable(random.values(hidden * width, scale: 1 / Float(width).squareRoot())), Shape(hidden, width))
            let down = try weight(representable(random.values(width * hidden, scale: 1 / Float(hidden).squareRoot())), Shape(width, hidden))
            reference.append(ExpertWeights(gate: gate.0, up: up.0, down: down.0))
            candidate.append(ExpertWeights(gate: gate.1, up: up.1, down: down.1))
        }
        let out = try outputs(Shape(tokens, width))
        let routing = ExpertRouting(topK: topK, renormalize: renormalize)
        self.reference.mixtureOfExperts(x.0, routerLogits: logits.0, experts: reference, routing: routing, out: out.0)
        self.candidate.mixtureOfExperts(x.1, routerLogits: logits.1, experts: candidate, routing: routing, out: out.1)
        return compare("mixtureOfExperts top-\(topK)\(renormalize ? ", renormalized" : "")", "[\(tokens), \(width)], \(experts) experts of \(hidden)", out)
    }

    /// Several projections of one input in one call (q/k/v), compared together.
    mutating func projections(tokens: Int, inputs: Int, outputs: [Int], biased: [Bool]) throws -> ConformanceResult {
        let x = try pair(representable(random.values(tokens * inputs)), Shape(tokens, inputs))
        var reference: [Projection] = [], candidate: [Projection] = [], outs: [(Tensor, Tensor)] = []
        for (n, hasBias) in zip(outputs, biased) {
            let w = try weight(representable(random.values(n * inputs, scale: 1 / Float(inputs).squareRoot())), Shape(n, inputs))
            let b = hasBias ? try weight(representable(random.values(n)), Shape(n)) : nil
            reference.append(Projection(weight: w.0, bias: b?.0))
            candidate.append(Projection(weight: w.1, bias: b?.1))
            outs.append(try self.outputs(Shape(tokens, n)))
        }
        // As the model loads them: packed into one matrix where the candidate does that.
        let packed = try self.candidate.packRows(candidate.map(\.weight))
        candidate = zip(packed, candidate).map { Projection(weight: $0, bias: $1.bias) }
        self.reference.linear(x.0, projections: reference, outs: outs.map(\.0))
        self.candidate.linear(x.1, projections: candidate, outs: outs.map(\.1))
        let parts = outs.map { compare("", "", $0) }
        let worst = parts.max { $0.relativeError < $1.relativeError }!
        return ConformanceResult(op: "linear × \(outputs.count) projections", shape: "[\(tokens), \(inputs)] -> \(outputs)",
                                 relativeError: worst.relativeError, bound: bound, poisoned: parts.reduce(0) { $0 + $1.poisoned })
    }

    mutating func rope(tokens: Int, heads: Int, dim: Int, rotary: Int, style: RopeStyle) throws -> ConformanceResult {
        let positions = try indexPair((0..<tokens).map { _ in Int32(random.index(below: 8192)) })
        let frequencies = (0..<rotary / 2).map { Float(1 / pow(500_000, Double(2 * $0) / Double(rotary))) }
        let inverse = try pair(frequencies, Shape(rotary / 2), dtype: .f32)
        let cos = try outputs(Shape(tokens, rotary / 2), dtype: .f32), sin = try outputs(Shape(tokens, rotary / 2), dtype: .f32)
        reference.ropeAngles(positions: positions.0, inverseFrequencies: inverse.0, cos: cos.0, sin: sin.0)
        candidate.ropeAngles(positions: positions.1, inverseFrequencies: inverse.1, cos: cos.1, sin: sin.1)
        let angles = compare("ropeAngles", "[\(tokens), \(rotary / 2)]", cos, bound: 1e-4)
        guard angles.passed else { return angles }
        let x = try pair(representable(random.values(tokens * heads * dim)), Shape(tokens, heads, dim))
        reference.rope(x.0, cos: cos.0, sin: sin.0, rotaryDim: rotary, style: style)
        candidate.rope(x.1, cos: cos.1, sin: sin.1, rotaryDim: rotary, style: style)
        return compare("rope \(style)", "[\(tokens), \(heads), \(dim)] rot \(rotary)", x)
    }

    /// cos/sin [T, rotary / 2] (f32) of tokens at `positions`, Llama 3's base, on both backends.
    private func ropeAngles(positions: [Int], rotary: Int) throws -> (cos: (Tensor, Tensor), sin: (Tensor, Tensor)) {
        let frequencies = (0..<rotary / 2).map { Float(1 / pow(500_000, Double(2 * $0) / Double(rotary))) }
        let angles = positions.flatMap { p in frequencies.map { Float(p) * $0 } }
        return (try pair(angles.map { cosf($0) }, Shape(positions.count, rotary / 2), dtype: .f32),
                try pair(angles.map { sinf($0) }, Shape(positions.count, rotary / 2), dtype: .f32))
    }

    /// Random q/k/v projections of `inputs` columns (weights scaled by weightScale / √inputs),
    /// loaded on both backends; the candidate's packed as the model loads them.
    mutating func qkvProjections(inputs: Int, qHeads: Int, kvHeads: Int, dim: Int, biased: Bool, weightScale: Float) throws
        -> (reference: [Projection], candidate: [Projection]) {
        var reference: [Projection] = [], candidate: [Projection] = []
        for heads in [qHeads, kvHeads, kvHeads] {
            let w = try weight(representable(random.values(heads * dim * inputs, scale: weightScale / Float(inputs).squareRoot())),
                               Shape(heads * dim, inputs))
            let b = biased ? try weight(representable(random.values(heads * dim)), Shape(heads * dim)) : nil
            reference.append(Projection(weight: w.0, bias: b?.0))
            candidate.append(Projection(weight: w.1, bias: b?.1))
        }
        let packed = try self.candidate.packRows(candidate.map(\.weight))
        return (reference, zip(packed, candidate).map { Projection(weight: $0, bias: $1.bias) })
    }

    /// A step's rotation angles and an empty paged cache whose new tokens land on shuffled slots:
    /// (cos, sin, keys, values, batch) for both backends.
    mutating func ropeCacheSetup(tokens: Int, kvHeads: Int, dim: Int, rotary: Int) throws
        -> (cos: (Tensor, Tensor), sin: (Tensor, Tensor), keys: (Tensor, Tensor), values: (Tensor, Tensor), batch: AttentionBatch) {
        let blockSize = 4, blocks = (tokens + blockSize - 1) / blockSize + 2
        var free = (0..<Int32(blocks * blockSize)).map { $0 }
        for i in stride(from: free.count - 1, to: 0, by: -1) { free.swapAt(i, random.index(below: i + 1)) }
        let slotMapping = Array(free.prefix(tokens))
        let (cos, sin) = try ropeAngles(positions: (0..<tokens).map { _ in random.index(below: 8192) }, rotary: rotary)
        let layout = Shape(blocks, blockSize, kvHeads, dim)
        let keys = try pair([Float](repeating: 0, count: layout.elementCount), layout)
        let values = try pair([Float](repeating: 0, count: layout.elementCount), layout)
        let batch = AttentionBatch(sequences: [SequenceSpan(queryStart: 0, queryCount: tokens, contextLength: tokens, blockTable: (0..<Int32(blocks)).map { $0 })],
                                   slotMapping: slotMapping, blockSize: blockSize)
        return (cos, sin, keys, values, batch)
    }

    /// RoPE on queries and keys and the cache write in one op: the rotated queries and keys and
    /// every cache slot (the written ones and the untouched rest) as the reference leaves them.
    mutating func ropeWriteKV(tokens: Int, qHeads: Int, kvHeads: Int, dim: Int, rotary: Int, style: RopeStyle) throws -> ConformanceResult {
        let setup = try ropeCacheSetup(tokens: tokens, kvHeads: kvHeads, dim: dim, rotary: rotary)
        let q = try pair(representable(random.values(tokens * qHeads * dim)), Shape(tokens, qHeads, dim))
        let k = try pair(representable(random.values(tokens * kvHeads * dim)), Shape(tokens, kvHeads, dim))
        let v = try pair(representable(random.values(tokens * kvHeads * dim)), Shape(tokens, kvHeads, dim))
        reference.ropeWriteKV(query: q.0, key: k.0, value: v.0, cos: setup.cos.0, sin: setup.sin.0, rotaryDim: rotary, style: style,
                              cache: LayerKVCache(key: setup.keys.0, value: setup.values.0), batch: setup.batch)
        candidate.ropeWriteKV(query: q.1, key: k.1, value: v.1, cos: setup.cos.1, sin: setup.sin.1, rotaryDim: rotary, style: style,
                              cache: LayerKVCache(key: setup.keys.1, value: setup.values.1), batch: setup.batch)
        let shape = "q [\(tokens), \(qHeads), \(dim)] kv \(kvHeads) rot \(rotary) \(style)"
        let results = [compare("ropeWriteKV", shape, q), compare("ropeWriteKV", shape, k), compare("ropeWriteKV", shape, setup.keys),
                       compare("ropeWriteKV", shape, setup.values)]
        return results.first { !$0.passed } ?? results.max { $0.relativeError < $1.relativeError }!
    }

    /// An attention layer's input: the q/k/v projections (packed as the model loads them), RoPE
    /// and the cache write; the rotated queries and every cache slot as the reference leaves them.
    mutating func projectRopeWriteKV(tokens: Int, inputs: Int, qHeads: Int, kvHeads: Int, dim: Int, rotary: Int, style: RopeStyle,
                                     biased: Bool) throws -> ConformanceResult {
        let setup = try ropeCacheSetup(tokens: tokens, kvHeads: kvHeads, dim: dim, rotary: rotary)
        let x = try pair(representable(random.values(tokens * inputs)), Shape(tokens, inputs))
        let (reference, candidate) = try qkvProjections(inputs: inputs, qHeads: qHeads, kvHeads: kvHeads, dim: dim, biased: biased, weightScale: 1)
        let q = try outputs(Shape(tokens, qHeads, dim)), k = try outputs(Shape(tokens, kvHeads, dim)), v = try outputs(Shape(tokens, kvHeads, dim))
        self.reference.projectRopeWriteKV(x.0, projections: reference, query: q.0, key: k.0, value: v.0, cos: setup.cos.0, sin: setup.sin.0,
                                          rotaryDim: rotary, style: style, cache: LayerKVCache(key: setup.keys.0, value: setup.values.0), batch: setup.batch)
        self.candidate.projectRopeWriteKV(x.1, projections: candidate, query: q.1, key: k.1, value: v.1, cos: setup.cos.1, sin: setup.sin.1,
                                          rotaryDim: rotary, style: style, cache: LayerKVCache(key: setup.keys.1, value: setup.values.1), batch: setup.batch)
        let op = "projectRopeWriteKV" + (biased ? " + bias" : ""), shape = "[\(tokens), \(inputs)] -> q \(qHeads) kv \(kvHeads) × \(dim) rot \(rotary)"
        let results = [compare(op, shape, q), compare(op, shape, setup.keys), compare(op, shape, setup.values)]
        return results.first { !$0.passed } ?? results.max { $0.relativeError < $1.relativeError }!
    }

    /// A decode-only step's attention after its projections, rotation and cache write
    /// (`projectRopeWriteKV`, then `attention`, as a model layer runs them). The candidate's cache
    /// holds NaN where the new keys go (as a recycled block may), so a kernel that reads them
    /// before they are written shows; the output and every cache slot are compared.
    mutating func projectedDecodeAttention(inputs: Int, qHeads: Int, kvHeads: Int, dim: Int, rotary: Int, style: RopeStyle, biased: Bool,
                                       window: Int?, cached: [Int]) throws -> ConformanceResult {
        let blockSize = 16, blocksPerSequence = cached.map { $0 / blockSize + 1 }
        let blockCount = blocksPerSequence.reduce(0, +) + 2
        var free = Array(0..<Int32(blockCount))
        for i in stride(from: free.count - 1, to: 0, by: -1) { free.swapAt(i, random.index(below: i + 1)) }
        let tables: [[Int32]] = blocksPerSequence.map { count in (0..<count).map { _ in free.removeLast() } }
        func slot(_ s: Int, _ position: Int) -> Int32 { tables[s][position / blockSize] * Int32(blockSize) + Int32(position % blockSize) }
        // Each sequence's cached keys and values (random), zero elsewhere; the new slots NaN on the candidate.
        let layout = Shape(blockCount, blockSize, kvHeads, dim), row = kvHeads * dim
        var keyValues = [[Float]](repeating: [Float](repeating: 0, count: layout.elementCount), count: 2)
        for (s, count) in cached.enumerated() {
            for position in 0..<count {
                let at = Int(slot(s, position)) * row
                for c in 0..<2 { keyValues[c].replaceSubrange(at..<(at + row), with: representable(random.values(row))) }
            }
        }
        let caches = try keyValues.map { values -> (Tensor, Tensor) in
            let r = try reference.allocate(layout, dtype: reference.activationDType), c = try candidate.allocate(layout, dtype: candidate.activationDType)
            var poisoned = values
            for s in cached.indices { let at = Int(slot(s, cached[s])) * row; poisoned.replaceSubrange(at..<(at + row), with: [Float](repeating: .nan, count: row)) }
            reference.upload(values, to: r)
            candidate.upload(poisoned, to: c)
            return (r, c)
        }
        let spans = cached.enumerated().map { s, count in SequenceSpan(queryStart: s, queryCount: 1, contextLength: count + 1, blockTable: tables[s]) }
        let batch = AttentionBatch(sequences: spans, slotMapping: cached.indices.map { slot($0, cached[$0]) }, blockSize: blockSize)
        let tokens = cached.count
        let (cos, sin) = try ropeAngles(positions: cached, rotary: rotary)
        let x = try pair(representable(random.values(tokens * inputs)), Shape(tokens, inputs))
        let (referenceProjections, candidateProjections) = try qkvProjections(inputs: inputs, qHeads: qHeads, kvHeads: kvHeads, dim: dim,
                                                                              biased: biased, weightScale: 2)
        let q = try outputs(Shape(tokens, qHeads, dim)), k = try outputs(Shape(tokens, kvHeads, dim)), v = try outputs(Shape(tokens, kvHeads, dim))
        let out = try outputs(Shape(tokens, qHeads, dim)), scale = 1 / Float(dim).squareRoot()
        let referenceCache = LayerKVCache(key: caches[0].0, value: caches[1].0), candidateCache = LayerKVCache(key: caches[0].1, value: caches[1].1)
        reference.projectRopeWriteKV(x.0, projections: referenceProjections, query: q.0, key: k.0, value: v.0, cos: cos.0, sin: sin.0,
                                     rotaryDim: rotary, style: style, cache: referenceCache, batch: batch)
        reference.attention(query: q.0, cache: referenceCache, batch: batch, scale: scale, slidingWindow: window, out: out.0)
        candidate.projectRopeWriteKV(x.1, projections: candidateProjections, query: q.1, key: k.1, value: v.1, cos: cos.1, sin: sin.1,
                                     rotaryDim: rotary, style: style, cache: candidateCache, batch: batch)
        candidate.attention(query: q.1, cache: candidateCache, batch: batch, scale: scale, slidingWindow: window, out: out.1)
        let op = "projected decode attention" + (biased ? " + bias" : "") + (window.map { " window \($0)" } ?? "")
        let shape = "Hq \(qHeads) Hkv \(kvHeads) D \(dim) rot \(rotary) \(style) ctx \(cached.map(String.init).joined(separator: ","))"
        let results = [compare(op, shape, out), compare(op, shape, caches[0]), compare(op, shape, caches[1])]
        return results.first { !$0.passed } ?? results.max { $0.relativeError < $1.relativeError }!
    }

    /// Writes every sequence's cached prefix, then one step's new tokens, and attends.
    mutating func attention(qHeads: Int, kvHeads: Int, dim: Int, blockSize: Int, window: Int?,
                            sequences: [(cached: Int, new: Int)]) throws -> ConformanceResult {
        let blocksPerSequence = sequences.map { ($0.cached + $0.new + blockSize - 1) / blockSize }
        let blockCount = blocksPerSequence.reduce(0, +) + 3
        // Scatter each sequence's blocks over the pool in a shuffled order.
        var free = Array(0..<Int32(blockCount))
        for i in stride(from: free.count - 1, to: 0, by: -1) { free.swapAt(i, random.index(below: i + 1)) }
        let tables: [[Int32]] = blocksPerSequence.map { count in (0..<count).map { _ in free.removeLast() } }
        let layout = Shape(blockCount, blockSize, kvHeads, dim)
        let keys = try outputs(layout), values = try outputs(layout)
        let cache = (LayerKVCache(key: keys.0, value: values.0), LayerKVCache(key: keys.1, value: values.1))
        func slots(_ table: [Int32], _ positions: Range<Int>) -> [Int32] {
            positions.map { table[$0 / blockSize] * Int32(blockSize) + Int32($0 % blockSize) }
        }
        func write(_ spans: [SequenceSpan], _ slotMapping: [Int32]) throws {
            let t = slotMapping.count
            let k = try pair(representable(random.values(t * kvHeads * dim)), Shape(t, kvHeads, dim))
            let v = try pair(representable(random.values(t * kvHeads * dim)), Shape(t, kvHeads, dim))
            let batch = AttentionBatch(sequences: spans, slotMapping: slotMapping, blockSize: blockSize)
            reference.writeKV(key: k.0, value: v.0, cache: cache.0, batch: batch)
            candidate.writeKV(key: k.1, value: v.1, cache: cache.1, batch: batch)
        }
        // The cached prefixes, as earlier steps would have written them.
        var prefixSpans: [SequenceSpan] = [], prefixSlots: [Int32] = []
        for (s, sequence) in sequences.enumerated() where sequence.cached > 0 {
            prefixSpans.append(SequenceSpan(queryStart: prefixSlots.count, queryCount: sequence.cached, contextLength: sequence.cached, blockTable: tables[s]))
            prefixSlots += slots(tables[s], 0..<sequence.cached)
        }
        if !prefixSlots.isEmpty { try write(prefixSpans, prefixSlots) }
        // This step: new tokens of every sequence, written then attended.
        var spans: [SequenceSpan] = [], stepSlots: [Int32] = []
        for (s, sequence) in sequences.enumerated() {
            spans.append(SequenceSpan(queryStart: stepSlots.count, queryCount: sequence.new, contextLength: sequence.cached + sequence.new, blockTable: tables[s]))
            stepSlots += slots(tables[s], sequence.cached..<(sequence.cached + sequence.new))
        }
        try write(spans, stepSlots)
        let t = stepSlots.count
        let batch = AttentionBatch(sequences: spans, slotMapping: stepSlots, blockSize: blockSize)
        let query = try pair(representable(random.values(t * qHeads * dim, scale: 2)), Shape(t, qHeads, dim))
        let out = try outputs(Shape(t, qHeads, dim))
        let scale = 1 / Float(dim).squareRoot()
        reference.attention(query: query.0, cache: cache.0, batch: batch, scale: scale, slidingWindow: window, out: out.0)
        candidate.attention(query: query.1, cache: cache.1, batch: batch, scale: scale, slidingWindow: window, out: out.1)
        let description = sequences.map { "\($0.cached)+\($0.new)" }.joined(separator: ",")
        return compare("attention\(window.map { " window \($0)" } ?? "")", "Hq \(qHeads) Hkv \(kvHeads) D \(dim) seqs \(description)", out)
    }

    mutating func argmax(rows: Int, columns: Int) throws -> ConformanceResult {
        // Distinct values (a random permutation of a grid), so the answer is unique.
        var values: [Float] = []
        for _ in 0..<rows {
            var row = (0..<columns).map { Float($0) / Float(columns) }
            for i in stride(from: columns - 1, to: 0, by: -1) { row.swapAt(i, random.index(below: i + 1)) }
            values += row
        }
        let x = try pair(values, Shape(rows, columns), dtype: .f32)
        let expected = reference.argmax(x.0), actual = candidate.argmax(x.1)
        let wrong = zip(expected, actual).filter { $0 != $1 }.count
        return ConformanceResult(op: "argmax", shape: "[\(rows), \(columns)]", relativeError: Double(wrong), bound: 0, poisoned: 0)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
