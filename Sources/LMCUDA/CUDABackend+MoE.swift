import LMTensor

extension CUDABackend {
    /// Sparse mixture of SiLU-gated experts (CPUBackend.mixtureOfExperts is the reference):
    /// routed on the host from the downloaded router logits (a wait per MoE layer, so models with
    /// experts run their steps eagerly, unrecorded), then each expert runs once over the tokens
    /// routed to it: their rows gathered, gate/up, the activation, down, and the result added into
    /// an f32 sum with the routing weights; the sum is stored as `out` at the end.
    ///   x [T, C], routerLogits [T, E] f32, out [T, C].
    public func mixtureOfExperts(_ x: Tensor, routerLogits: Tensor, experts: [ExpertWeights], routing: ExpertRouting, out: Tensor) {
        let tokens = x.shape[0], width = x.shape[1], k = routing.topK
        precondition(routerLogits.shape[0] == tokens && routerLogits.shape[1] == experts.count && out.shape == x.shape,
                     "mixtureOfExperts: x \(x.shape), router \(routerLogits.shape) for \(experts.count) experts, out \(out.shape)")
        let choice = routing.route(logits: download(routerLogits), tokens: tokens, experts: experts.count)
        // Token rows and weights grouped by expert, in expert order (`start` walks them below);
        // slots with no expert (NaN logits) are left out.
        var members = [[(token: Int32, weight: Float)]](repeating: [], count: experts.count)
        for (slot, expert) in choice.experts.enumerated() where expert >= 0 { members[expert].append((Int32(slot / k), choice.weights[slot])) }
        let rows = members.flatMap { $0.map(\.token) }, weights = members.flatMap { $0.map(\.weight) }
        // An expert takes a token once, so no expert has more than T rows.
        let hidden = experts.map { $0.gate.shape[0] }.max() ?? 0
        let (rowsAddress, weightsAddress, sum, input, gate, up, result) = must { () throws(CUDAError) in
            (try stepBuffers.upload(ints: rows, "expertRows"), try stepBuffers.upload(floats: weights, "expertWeights"),
             try stepBuffers.scratchTensor("expertSum", shape: Shape(tokens, width), dtype: .f32),
             try stepBuffers.scratchTensor("expertInput", shape: Shape(tokens, width), dtype: x.dtype),
             try stepBuffers.scratchTensor("expertGate", shape: Shape(tokens, hidden), dtype: x.dtype),
             try stepBuffers.scratchTensor("expertUp", shape: Shape(tokens, hidden), dtype: x.dtype),
             try stepBuffers.scratchTensor("expertOutput", shape: Shape(tokens, width), dtype: x.dtype))
        }
        must { () throws(CUDAError) in
            device.makeCurrent()
            try device.driver.check(device.driver.cuMemsetD8Async(sum.address, 0, sum.byteCount, device.stream), "cuMemsetD8Async(expert sum)")
        }
        let allRows = stepBuffers.tensor("expertRows", count: rows.count)
        var start = 0
        for (e, expert) in experts.enumerated() where !members[e].isEmpty {
            let n = members[e].count, expertHidden = expert.gate.shape[0]
            let indices = Tensor(buffer: allRows.buffer, dtype: .i32, shape: Shape(n), byteOffset: start * 4)
            let expertInput = input.rows(0..<n), expertOutput = result.rows(0..<n)
            let expertGate = Tensor(buffer: gate.buffer, dtype: gate.dtype, shape: Shape(n, expertHidden))
            let expertUp = Tensor(buffer: up.buffer, dtype: up.dtype, shape: Shape(n, expertHidden))
            gatherRows(x, indices: indices, out: expertInput)
            linear(expertInput, weight: expert.gate, bias: nil, out: expertGate)
            linear(expertInput, weight: expert.up, bias: nil, out: expertUp)
            gatedActivation(.silu, gate: expertGate, up: expertUp, out: expertGate)
            linear(expertGate, weight: expert.down, bias: nil, out: expertOutput)
            launch(.expertRows, "add_expert_rows_" + suffix(expertOutput.dtype), grid: (blocks(n * width), 1, 1), block: 256) { a in
                a.add(sum.address); a.add(expertOutput.address); a.add(rowsAddress + CUdeviceptr(start * 4))
                a.add(weightsAddress + CUdeviceptr(start * 4)); a.add(Int32(n)); a.add(Int32(width))
            }
            start += n
        }
        launch(.expertRows, "store_expert_sum_" + suffix(out.dtype), grid: (blocks(out.elementCount), 1, 1), block: 256) { a in
            a.add(sum.address); a.add(out.address); a.add(out.elementCount)
        }
    }
}
