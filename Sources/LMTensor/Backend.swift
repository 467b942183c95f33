/// Pairing of the two halves RoPE rotates together.
public enum RopeStyle: Sendable, Equatable {
    /// Dims `i` and `i + rot/2` ("rotate_half"; Hugging Face Llama, Qwen, Mistral).
    case neox
    /// Dims `2i` and `2i + 1` (GPT-J, and llama.cpp's permuted Llama checkpoints).
    case interleaved
}

/// The nonlinearity of a gated MLP: out = act(gate) * up.
public enum Activation: String, Sendable, Equatable {
    /// x · sigmoid(x) (Llama, Qwen, Mistral).
    case silu
    /// GELU with the tanh approximation, `gelu_pytorch_tanh` (Gemma).
    case geluTanh
}

/// The three projections of one SiLU-gated expert.
public struct ExpertWeights: Sendable {
    public let gate: Tensor  // [F, C]
    public let up: Tensor    // [F, C]
    public let down: Tensor  // [C, F]

    public init(gate: Tensor, up: Tensor, down: Tensor) {
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// An op's input given as the residual stream and the RMSNorm that turns it into the input:
/// x = rmsNorm(residual) · weight, computed by the op that reads it where the backend fuses
/// them (`Backend.fusesResidualNorms`), else first into `normed`   residual, normed [T, C], weight [C].
public struct ResidualNorm: Sendable {
    public let residual: Tensor
    public let weight: Tensor
    public let epsilon: Float
    public let normed: Tensor

    public init(residual: Tensor, weight: Tensor, epsilon: Float, normed: Tensor) {
        self.residual = residual
        self.weight = weight
        self.epsilon = epsilon
        self.normed = normed
    }
}

/// A weight matrix and optional bias applied to an input (one of q/k/v, gate/up, ...).
public struct Projection: Sendable {
    public let weight: Tensor   // [N, K]
    public let bias: Tensor?    // [N]

    public init(weight: Tensor, bias: Tensor? = nil) {
        self.weight = weight
        self.bias = bias
    }
}

/// Routing of a mixture-of-experts layer.
public struct ExpertRouting: Sendable, Equatable {
    /// Experts each token uses.
    public var topK: Int
    /// Rescale the top-k routing weights to sum to one (Mixtral, Qwen3-MoE `norm_topk_prob`).
    public var renormalize: Bool

    public init(topK: Int, renormalize: Bool) {
        self.topK = topK
        self.renormalize = renormalize
    }
}

/// A compute device and every op the models need. Every op has a CPU reference implementation
/// (LMCPU); others are checked against it. Ops write into caller-provided outputs so a model
/// allocates its activations once. A backend is driven by one thread at a time; ops may run
/// asynchronously and `download` waits for them.
///
/// Shape legend: T tokens, H heads (Hq query, Hkv key/value), D head dim, C channels,
/// F feed-forward width, E experts, V vocab, R rows.
public protocol Backend: AnyObject, Sendable {
    /// A short description naming the device, e.g. "cpu (avx512, 2 threads)".
    var name: String { get }
    /// The dtype this backend computes activations and stores KV caches in.
    var activationDType: DType { get }

    // MARK: Memory

    /// An uninitialised tensor.
    func allocate(_ shape: Shape, dtype: DType) throws -> Tensor
    /// A weight for the ops below, made from host bytes (may alias them on the CPU).
    /// Rank-1 weights (norms, biases) are stored as `activationDType`.
    func loadWeight(_ host: HostTensor) throws -> Tensor
    /// The same weights (shapes and values), stored one after another in one buffer when the
    /// backend runs them as one matrix (q/k/v, gate/up); the default returns them unchanged.
    func packRows(_ weights: [Tensor]) throws -> [Tensor]
    /// Copies host values into `tensor` (i32 tensors from `[Int32]`).
    func upload(_ values: [Int32], to tensor: Tensor)
    /// Copies host values into an f32 `tensor`.
    func upload(_ values: [Float], to tensor: Tensor)
    /// Waits for pending work and returns the tensor's values as f32.
    func download(_ tensor: Tensor) -> [Float]
    /// Waits until the work queued so far has run (before freeing buffers it may use).
    func waitForQueuedWork()
    /// Waits for pending work and returns the index of each row's largest value (the first on
    /// ties)   x [R, V] -> [R].
    func argmax(_ x: Tensor) -> [Int32]
    /// Waits for pending work and draws a token from each row of f32 logits by `rows[r]`'s
    /// settings (`SamplingRow.choose` is the reference)   logits [R, V] -> [R].
    func sample(_ logits: Tensor, rows: [SamplingRow]) -> [Int32]
    /// Whether `sample` runs where the logits are (so a caller need not download them).
    var samplesOnDevice: Bool { get }
    /// Applies `edits` (penalties, biases, bans; at most one per row and token) to f32 logits
    /// [R, V] in place (`LogitEdit.apply` is the reference).
    func editLogits(_ logits: Tensor, _ edits: [LogitEdit])
    /// `editLogits` in a step launched before the host read the tokens some rows' requests drew
    /// last (into `drawn` [S] i32): those rows' penalties count them (`PendingDraw.resolve` is
    /// the reference). `edits` are sorted by row, then token.
    func editLogits(_ logits: Tensor, _ edits: [LogitEdit], pending: [PendingDraw], drawn: Tensor)
    /// Each row's drawn token's log-probability and the `top` most likely tokens, from raw f32
    /// logits, into `out` as i32 words (`TokenLogprobs` is the reference), without waiting
    /// raw [R, V], tokens [R] i32, out [R, 1 + 2·top] i32.
    func tokenLogprobs(_ raw: Tensor, tokens: Tensor, top: Int, into out: Tensor)
    /// `argmax` into the i32 tensor `out` [R], without waiting: a later step can read the tokens
    /// on the device (`copyTokens`) before the host has them (`startDownload`).
    func argmax(_ x: Tensor, into out: Tensor)
    /// `sample` into the i32 tensor `out` [R], without waiting where the backend samples on the device.
    func sample(_ logits: Tensor, rows: [SamplingRow], into out: Tensor)
    /// Queues a copy of the i32 `tensor` to the host behind the work queued so far, exact (it
    /// may hold float bit patterns: `TokenLogprobs` words).
    func startDownload(_ tensor: Tensor) -> PendingTokens
    /// tokens[rows[i]] = source[indices[i]]: a step's input tokens that an earlier step sampled
    /// into `source`, copied where they are   source [S] i32, tokens [T] i32.
    func copyTokens(_ source: Tensor, indices: [Int32], into tokens: Tensor, rows: [Int32])

    // MARK: Ops

    /// out[r] = source[indices[r]]   source [N, C] (any float dtype), indices [R] i32, out [R, C].
    func gatherRows(_ source: Tensor, indices: Tensor, out: Tensor)
    /// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight   x [R, C], weight [C], out [R, C].
    func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, out: Tensor)
    /// out = a + b, elementwise over equal shapes.
    func add(_ a: Tensor, _ b: Tensor, out: Tensor)
    /// The residual add and the next norm in one pass: residual += delta, then
    /// out = rmsNorm(residual) · weight   residual, delta, out [R, C], weight [C].
    func addRMSNorm(_ residual: Tensor, _ delta: Tensor, weight: Tensor, epsilon: Float, out: Tensor)
    /// out = x · weightᵀ + bias   x [T, K], weight [N, K], bias [N] or nil, out [T, N].
    func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, out: Tensor)
    /// outs[i] = x · projections[i].weightᵀ + bias, several projections of one input (q/k/v,
    /// gate/up) in one dispatch   x [T, K], outs[i] [T, N_i].
    func linear(_ x: Tensor, projections: [Projection], outs: [Tensor])
    /// residual += x · weightᵀ + bias, rounded as `linear` into `scratch` then `add` would round
    /// it, or once where the backend adds inside the product   x [T, K], residual, scratch [T, N].
    func addLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor, scratch: Tensor)
    /// Whether a step of `tokens` tokens should run its layers as residual adds inside the
    /// output linears (`addLinear`) and norms inside the ops that read them (`normedGatedLinear`,
    /// `normedProjectRopeWriteKV`): launches saved where a step is latency-bound.
    func fusesResidualNorms(tokens: Int) -> Bool
    /// out = act(gate) * up   all [T, F].
    func gatedActivation(_ activation: Activation, gate: Tensor, up: Tensor, out: Tensor)
    /// out = act(x · gateᵀ + b) * (x · upᵀ + b), an MLP's input to its down projection, where
    /// `scratch` may hold the up projection on the way   x [T, C], out and scratch [T, F].
    func gatedLinear(_ x: Tensor, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor)
    /// `gatedLinear` of `input`'s normed rows.
    func normedGatedLinear(_ input: ResidualNorm, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor)
    /// out = x * factor, elementwise.
    func scale(_ x: Tensor, by factor: Float, out: Tensor)
    /// cos/sin[t, i] = cos/sin(positions[t] * inverseFrequencies[i])   positions [T] i32,
    /// inverseFrequencies [rot/2] f32, cos and sin [T, rot/2] f32.
    func ropeAngles(positions: Tensor, inverseFrequencies: Tensor, cos: Tensor, sin: Tensor)
    /// Rotates the first `rotaryDim` dims of every head in place   x [T, H, D], cos/sin [T, rot/2].
    func rope(_ x: Tensor, cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle)
    /// Stores the new tokens' keys and values at `batch.slotMapping`   key, value [T, Hkv, D].
    func writeKV(key: Tensor, value: Tensor, cache: LayerKVCache, batch: AttentionBatch)
    /// `rope` on the new tokens' queries and keys, then `writeKV` of the keys and values: one
    /// pass where the backend fuses them   query [T, Hq, D], key, value [T, Hkv, D], cos/sin [T, rot/2].
    func ropeWriteKV(query: Tensor, key: Tensor, value: Tensor, cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle,
                     cache: LayerKVCache, batch: AttentionBatch)
    /// An attention layer's input: the q/k/v `projections` of x, then `ropeWriteKV`. The rotated
    /// queries land in `query`; `key` and `value` are scratch the backend may leave untouched
    /// (the cache holds them)   x [T, C], query [T, Hq, D], key, value [T, Hkv, D].
    func projectRopeWriteKV(_ x: Tensor, projections: [Projection], query: Tensor, key: Tensor, value: Tensor, cos: Tensor, sin: Tensor,
                            rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch)
    /// `projectRopeWriteKV` of `input`'s normed rows.
    func normedProjectRopeWriteKV(_ input: ResidualNorm, projections: [Projection], query: Tensor, key: Tensor, value: Tensor, cos: Tensor,
                                  sin: Tensor, rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch)
    /// Causal attention of each new token over its sequence's cached keys (GQA: query head h
    /// reads KV head h / (Hq / Hkv)); with `slidingWindow` W a token at position p sees keys
    /// p - W < j <= p.   query [T, Hq, D], out [T, Hq, D].
    func attention(query: Tensor, cache: LayerKVCache, batch: AttentionBatch, scale: Float,
                   slidingWindow: Int?, out: Tensor)
    /// Sparse mixture of SiLU-gated experts: softmax over routerLogits, the top-k experts per
    /// token, out = Σ weight_e · down_e(silu(gate_e x) * up_e x)
    /// x [T, C], routerLogits [T, E] f32, out [T, C].
    func mixtureOfExperts(_ x: Tensor, routerLogits: Tensor, experts: [ExpertWeights],
                          routing: ExpertRouting, out: Tensor)

    // MARK: Steps

    /// Runs `body`, the ops of one forward step over `batch` whose inputs are already uploaded.
    /// With a `replayKey` the backend may record the ops once and replay the recording for later
    /// steps of the same key (CUDA graphs); every buffer `body` touches must then keep its
    /// address until `discardRecordedSteps(of:)` for the key's owner.
    func runStep(_ batch: AttentionBatch, replayKey: StepReplayKey?, _ body: () -> Void)
    /// Forgets the steps recorded for `owner` (call before freeing a buffer they use).
    func discardRecordedSteps(of owner: ObjectIdentifier)
    /// Whether `runStep` replays recordings (a model then pads decode batches to a few sizes, so
    /// few recordings serve every batch size).
    var recordsSteps: Bool { get }
}

extension Backend {
    public func packRows(_ weights: [Tensor]) throws -> [Tensor] { weights }

    /// The reference, on the downloaded logits.
    public func sample(_ logits: Tensor, rows: [SamplingRow]) -> [Int32] {
        precondition(rows.count == logits.shape[0], "\(rows.count) sampling rows for \(logits.shape) logits")
        let values = download(logits), vocab = logits.shape[1]
        return values.withUnsafeBufferPointer { all in
            rows.enumerated().map { r, row in row.choose(UnsafeBufferPointer(rebasing: all[(r * vocab)..<((r + 1) * vocab)])) }
        }
    }

    public var samplesOnDevice: Bool { false }

    /// The reference: the drawn tokens downloaded, then the resolved edits applied.
    public func editLogits(_ logits: Tensor, _ edits: [LogitEdit], pending: [PendingDraw], drawn: Tensor) {
        editLogits(logits, PendingDraw.resolve(edits, pending, tokens: download(drawn).map { Int32($0) }))
    }

    /// The reference, on the downloaded logits and tokens.
    public func tokenLogprobs(_ raw: Tensor, tokens: Tensor, top: Int, into out: Tensor) {
        let rows = raw.shape[0], vocab = raw.shape[1]
        precondition(raw.dtype == .f32 && tokens.dtype == .i32 && tokens.elementCount == rows && out.dtype == .i32
                     && out.elementCount == rows * TokenLogprobs.words(top: top), "tokenLogprobs of \(raw.shape) into \(out.shape)")
        let values = download(raw), drawn = download(tokens)
        let words = values.withUnsafeBufferPointer { all in
            (0..<rows).flatMap { r in
                TokenLogprobs(UnsafeBufferPointer(rebasing: all[(r * vocab)..<((r + 1) * vocab)]), token: Int32(drawn[r]), top: top).words(top: top)
            }
        }
        upload(words, to: out)
    }

    /// Backends that run ops as they come have nothing queued.
    public func waitForQueuedWork() {}

    /// The reference: the host's argmax, uploaded.
    public func argmax(_ x: Tensor, into out: Tensor) { upload(argmax(x), to: out) }

    /// The reference: the host's draw, uploaded.
    public func sample(_ logits: Tensor, rows: [SamplingRow], into out: Tensor) { upload(sample(logits, rows: rows), to: out) }


    /// The reference, one element at a time through the host.
    public func copyTokens(_ source: Tensor, indices: [Int32], into tokens: Tensor, rows: [Int32]) {
        precondition(source.dtype == .i32 && tokens.dtype == .i32 && indices.count == rows.count, "copyTokens of \(indices.count) indices, \(rows.count) rows")
        guard !indices.isEmpty else { return }
        let values = download(source)
        for (index, row) in zip(indices, rows) {
            upload([Int32(values[Int(index)])], to: tokens.rows(Int(row)..<Int(row) + 1))
        }
    }

    /// The reference: the two ops one after the other.
    public func addRMSNorm(_ residual: Tensor, _ delta: Tensor, weight: Tensor, epsilon: Float, out: Tensor) {
        add(residual, delta, out: residual)
        rmsNorm(residual, weight: weight, epsilon: epsilon, out: out)
    }

    /// The reference: the three ops one after the other.
    public func ropeWriteKV(query: Tensor, key: Tensor, value: Tensor, cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle,
                            cache: LayerKVCache, batch: AttentionBatch) {
        rope(query, cos: cos, sin: sin, rotaryDim: rotaryDim, style: style)
        rope(key, cos: cos, sin: sin, rotaryDim: rotaryDim, style: style)
        writeKV(key: key, value: value, cache: cache, batch: batch)
    }

    /// The reference: the two projections, then the activation.
    public func gatedLinear(_ x: Tensor, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor) {
        composedGatedLinear(x, gate: gate, up: up, activation: activation, out: out, scratch: scratch)
    }

    /// `gatedLinear` as its parts, for a backend whose fused path does not apply.
    public func composedGatedLinear(_ x: Tensor, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor) {
        linear(x, projections: [gate, up], outs: [out, scratch])
        gatedActivation(activation, gate: out, up: scratch, out: out)
    }

    /// The reference: the projections, then the rotations and the cache write.
    public func projectRopeWriteKV(_ x: Tensor, projections: [Projection], query: Tensor, key: Tensor, value: Tensor, cos: Tensor, sin: Tensor,
                                   rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        composedProjectRopeWriteKV(x, projections: projections, query: query, key: key, value: value, cos: cos, sin: sin,
                                   rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
    }

    /// The reference: `linear` into scratch, then `add`.
    public func addLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor, scratch: Tensor) {
        composedAddLinear(x, weight: weight, bias: bias, residual: residual, scratch: scratch)
    }

    /// `addLinear` as its parts, for a backend whose fused path does not apply.
    public func composedAddLinear(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor, scratch: Tensor) {
        linear(x, weight: weight, bias: bias, out: scratch)
        add(residual, scratch, out: residual)
    }

    /// Backends without the fused ops keep the separate norms.
    public func fusesResidualNorms(tokens: Int) -> Bool { false }

    /// The reference: the norm into `input.normed`, then `gatedLinear`.
    public func normedGatedLinear(_ input: ResidualNorm, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor) {
        composedNormedGatedLinear(input, gate: gate, up: up, activation: activation, out: out, scratch: scratch)
    }

    /// `normedGatedLinear` as its parts, for a backend whose fused path does not apply.
    public func composedNormedGatedLinear(_ input: ResidualNorm, gate: Projection, up: Projection, activation: Activation, out: Tensor, scratch: Tensor) {
        rmsNorm(input.residual, weight: input.weight, epsilon: input.epsilon, out: input.normed)
        gatedLinear(input.normed, gate: gate, up: up, activation: activation, out: out, scratch: scratch)
    }

    /// The reference: the norm into `input.normed`, then `projectRopeWriteKV`.
    public func normedProjectRopeWriteKV(_ input: ResidualNorm, projections: [Projection], query: Tensor, key: Tensor, value: Tensor, cos: Tensor,
                                         sin: Tensor, rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        composedNormedProjectRopeWriteKV(input, projections: projections, query: query, key: key, value: value, cos: cos, sin: sin,
                                         rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
    }

    /// `normedProjectRopeWriteKV` as its parts, for a backend whose fused path does not apply.
    public func composedNormedProjectRopeWriteKV(_ input: ResidualNorm, projections: [Projection], query: Tensor, key: Tensor, value: Tensor,
                                                 cos: Tensor, sin: Tensor, rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        rmsNorm(input.residual, weight: input.weight, epsilon: input.epsilon, out: input.normed)
        projectRopeWriteKV(input.normed, projections: projections, query: query, key: key, value: value, cos: cos, sin: sin,
                           rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
    }

    /// `projectRopeWriteKV` as its parts, for a backend whose fused path does not apply.
    public func composedProjectRopeWriteKV(_ x: Tensor, projections: [Projection], query: Tensor, key: Tensor, value: Tensor, cos: Tensor,
                                           sin: Tensor, rotaryDim: Int, style: RopeStyle, cache: LayerKVCache, batch: AttentionBatch) {
        let t = x.shape[0]
        linear(x, projections: projections, outs: [query.reshaped(t, query.elementCount / max(t, 1)), key.reshaped(t, key.elementCount / max(t, 1)),
                                                   value.reshaped(t, value.elementCount / max(t, 1))])
        ropeWriteKV(query: query, key: key, value: value, cos: cos, sin: sin, rotaryDim: rotaryDim, style: style, cache: cache, batch: batch)
    }

    /// Backends without recordings run every step's ops as they come.
    public func runStep(_ batch: AttentionBatch, replayKey: StepReplayKey?, _ body: () -> Void) { body() }
    public func discardRecordedSteps(of owner: ObjectIdentifier) {}
    public var recordsSteps: Bool { false }
}
