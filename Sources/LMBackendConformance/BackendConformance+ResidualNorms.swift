import LMTensor

/// The ops of the fused residual-norm schedule (`Backend.fusesResidualNorms`): residual adds
/// inside the output linears, norms inside the input ops.
extension BackendConformance {
    mutating func residualNormCases() throws -> [ConformanceResult] {
        var results: [ConformanceResult] = []
        // One token (CUDA: the GEMV adding in its epilogue, 4 and 1 warps a row), rows past the
        // GEMV's longest and a few tokens (cuBLASLt adding into the residual, beta = 1; Llama-3-8B's
        // down projection among them), and a bias (the linear, then the add).
        for (t, k, n, bias) in [(1, 4096, 4096, false), (1, 1024, 1003, false), (1, 14336, 512, false), (1, 14336, 4096, false),
                                (3, 512, 256, false), (1, 512, 256, true)] {
            results.append(try addLinear(tokens: t, inputs: k, outputs: n, bias: bias))
        }
        // One token normed by every block (rows of 576 columns: a partial last warp in the norm),
        // 5 x 4096 (CUDA under PEREGRINE_CUDA_GEMV_MAX_TOKENS=8: 40 KB of normed rows, the most a
        // block takes) and 8 x 4096 (past it: the norm, then the op).
        for (t, k, hidden) in [(1, 4096, 1024), (1, 576, 512), (5, 4096, 256), (8, 4096, 256)] {
            results.append(try normedGatedLinear(tokens: t, inputs: k, hidden: hidden))
        }
        results.append(try normedProjectRopeWriteKV(tokens: 1, inputs: 4096, qHeads: 32, kvHeads: 8, dim: 128, rotary: 128, style: .neox, biased: false))
        results.append(try normedProjectRopeWriteKV(tokens: 1, inputs: 1024, qHeads: 16, kvHeads: 4, dim: 128, rotary: 96, style: .interleaved, biased: true))
        results.append(try normedProjectRopeWriteKV(tokens: 4, inputs: 576, qHeads: 8, kvHeads: 2, dim: 64, rotary: 64, style: .neox, biased: true))
        return results
    }

    /// residual += x · Wᵀ (+ b): the updated residual.
    mutating func addLinear(tokens: Int, inputs: Int, outputs n: Int, bias: Bool) throws -> ConformanceResult {
        let x = try pair(representable(random.values(tokens * inputs)), Shape(tokens, inputs))
        let w = try weight(representable(random.values(n * inputs, scale: 1 / Float(inputs).squareRoot())), Shape(n, inputs))
        let b = bias ? try weight(representable(random.values(n)), Shape(n)) : nil
        let residual = try pair(representable(random.values(tokens * n, scale: 3)), Shape(tokens, n))
        let scratch = try outputs(Shape(tokens, n))
        reference.addLinear(x.0, weight: w.0, bias: b?.0, residual: residual.0, scratch: scratch.0)
        candidate.addLinear(x.1, weight: w.1, bias: b?.1, residual: residual.1, scratch: scratch.1)
        return compare("addLinear\(bias ? " + bias" : "")", "[\(tokens), \(inputs)] x [\(n), \(inputs)]ᵀ", residual)
    }

    /// The input norm of a residual (its values spread as a residual stream's are) and its weight.
    private mutating func residualNorm(tokens: Int, columns: Int) throws -> (ResidualNorm, ResidualNorm) {
        let residual = try pair(representable(random.values(tokens * columns, scale: 3)), Shape(tokens, columns))
        let w = try weight(representable(random.values(columns)), Shape(columns))
        let normed = try outputs(Shape(tokens, columns))
        return (ResidualNorm(residual: residual.0, weight: w.0, epsilon: 1e-5, normed: normed.0),
                ResidualNorm(residual: residual.1, weight: w.1, epsilon: 1e-5, normed: normed.1))
    }

    /// An MLP's gated input of the normed residual, gate and up packed as the model loads them.
    mutating func normedGatedLinear(tokens: Int, inputs: Int, hidden: Int) throws -> ConformanceResult {
        let input = try residualNorm(tokens: tokens, columns: inputs)
        var reference: [Projection] = [], candidate: [Projection] = []
        for _ in 0..<2 {
            let w = try weight(representable(random.values(hidden * inputs, scale: 2 / Float(inputs).squareRoot())), Shape(hidden, inputs))
            reference.append(Projection(weight: w.0, bias: nil))
            candidate.append(Projection(weight: w.1, bias: nil))
        }
        candidate = try self.candidate.packRows(candidate.map(\.weight)).map { Projection(weight: $0, bias: nil) }
        let out = try outputs(Shape(tokens, hidden)), scratch = try outputs(Shape(tokens, hidden))
        self.reference.normedGatedLinear(input.0, gate: reference[0], up: reference[1], activation: .silu, out: out.0, scratch: scratch.0)
        self.candidate.normedGatedLinear(input.1, gate: candidate[0], up: candidate[1], activation: .silu, out: out.1, scratch: scratch.1)
        return compare("normedGatedLinear", "[\(tokens), \(inputs)] -> [\(tokens), \(hidden)]", out)
    }

    /// `projectRopeWriteKV` of the normed residual: the rotated queries and every cache slot.
    mutating func normedProjectRopeWriteKV(tokens: Int, inputs: Int, qHeads: Int, kvHeads: Int, dim: Int, rotary: Int, style: RopeStyle,
                                           biased: Bool) throws -> ConformanceResult {
        let setup = try ropeCacheSetup(tokens: tokens, kvHeads: kvHeads, dim: dim, rotary: rotary)
        let input = try residualNorm(tokens: tokens, columns: inputs)
        let (reference, candidate) = try qkvProjections(inputs: inputs, qHeads: qHeads, kvHeads: kvHeads, dim: dim, biased: biased, weightScale: 1)
        let q = try outputs(Shape(tokens, qHeads, dim)), k = try outputs(Shape(tokens, kvHeads, dim)), v = try outputs(Shape(tokens, kvHeads, dim))
        self.reference.normedProjectRopeWriteKV(input.0, projections: reference, query: q.0, key: k.0, value: v.0, cos: setup.cos.0, sin: setup.sin.0,
                                                rotaryDim: rotary, style: style, cache: LayerKVCache(key: setup.keys.0, value: setup.values.0),
                                                batch: setup.batch)
        self.candidate.normedProjectRopeWriteKV(input.1, projections: candidate, query: q.1, key: k.1, value: v.1, cos: setup.cos.1, sin: setup.sin.1,
                                                rotaryDim: rotary, style: style, cache: LayerKVCache(key: setup.keys.1, value: setup.values.1),
                                                batch: setup.batch)
        let op = "normedProjectRopeWriteKV" + (biased ? " + bias" : "")
        let shape = "[\(tokens), \(inputs)] -> q \(qHeads) kv \(kvHeads) × \(dim) rot \(rotary)"
        let results = [compare(op, shape, q), compare(op, shape, setup.keys), compare(op, shape, setup.values)]
        return results.first { !$0.passed } ?? results.max { $0.relativeError < $1.relativeError }!
    }
}
