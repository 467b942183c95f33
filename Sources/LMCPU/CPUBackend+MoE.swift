import LMTensor

extension CPUBackend {
    /// Sparse mixture of SiLU-gated experts, routed as transformers' Mixtral does: softmax over
    /// the router logits in f32, the top-k experts, optionally renormalised to sum to one; each
    /// expert runs once over the tokens routed to it   x [T, C], routerLogits [T, E], out [T, C].
    public func mixtureOfExperts(_ x: Tensor, routerLogits: Tensor, experts: [ExpertWeights],
                                 routing: ExpertRouting, out: Tensor) {
        let tokens = x.shape.rows, width = x.shape.last, expertCount = experts.count, k = routing.topK
        precondition(routerLogits.shape.rows == tokens && routerLogits.shape.last == expertCount && out.shape == x.shape,
                     "mixtureOfExperts: x \(x.shape), router \(routerLogits.shape) for \(expertCount) experts, out \(out.shape)")
        precondition(k >= 1 && k <= expertCount, "mixtureOfExperts: top-\(k) of \(expertCount) experts")
        route(routerLogits.floats, tokens: tokens, experts: expertCount, routing: routing)

        let xp = x.floats, op = out.floats
        op.update(repeating: 0, count: tokens * width)
        var members: [(token: Int, weight: Float)] = []
        swap(&members, &moeWorkspace.members)   // take the buffer without a copy-on-write copy
        defer { swap(&members, &moeWorkspace.members) }
        for (e, expert) in experts.enumerated() {
            members.removeAll(keepingCapacity: true)
            for t in 0..<tokens {
                for slot in 0..<k where moeWorkspace.chosenExperts[t * k + slot] == e {
                    members.append((t, moeWorkspace.chosenWeights[t * k + slot]))
                }
            }
            if members.isEmpty { continue }
            let n = members.count, hidden = expert.gate.shape[0]
            let input = MoEWorkspace.view(&moeWorkspace.expertInput, Shape(n, width))
            let gate = MoEWorkspace.view(&moeWorkspace.gate, Shape(n, hidden))
            let up = MoEWorkspace.view(&moeWorkspace.up, Shape(n, hidden))
            let result = MoEWorkspace.view(&moeWorkspace.expertOutput, Shape(n, width))
            for (i, member) in members.enumerated() {
                (input.floats + i * width).update(from: xp + member.token * width, count: width)
            }
            linear(input, weight: expert.gate, bias: nil, out: gate)
            linear(input, weight: expert.up, bias: nil, out: up)
            gatedActivation(.silu, gate: gate, up: up, out: gate)
            linear(gate, weight: expert.down, bias: nil, out: result)
            for (i, member) in members.enumerated() {
                kernels.axpy(member.weight, result.floats + i * width, op + member.token * width, Int64(width))
            }
        }
    }

    /// Fills `moeWorkspace.chosenExperts/Weights` with each token's top-k experts.
    private func route(_ logits: UnsafeMutablePointer<Float>, tokens: Int, experts: Int, routing: ExpertRouting) {
        // The buffers leave the workspace while they are filled (no copy-on-write copy, and no
        // overlapping access to it).
        var chosen = (experts: [Int](), weights: [Float](), probabilities: [Float]())
        swap(&chosen.experts, &moeWorkspace.chosenExperts)
        swap(&chosen.weights, &moeWorkspace.chosenWeights)
        swap(&chosen.probabilities, &moeWorkspace.probabilities)
        defer {
            swap(&chosen.experts, &moeWorkspace.chosenExperts)
            swap(&chosen.weights, &moeWorkspace.chosenWeights)
            swap(&chosen.probabilities, &moeWorkspace.probabilities)
        }
        chosen.experts.removeAll(keepingCapacity: true)
        chosen.weights.removeAll(keepingCapacity: true)
        chosen.probabilities.removeAll(keepingCapacity: true)
        chosen.probabilities.append(contentsOf: repeatElement(0, count: experts))
        for t in 0..<tokens {
            chosen.probabilities.withUnsafeMutableBufferPointer { p in
                p.baseAddress!.update(from: logits + t * experts, count: experts)
                kernels.softmax(p.baseAddress!, Int64(experts))
                routing.appendChoice(from: p, experts: &chosen.experts, weights: &chosen.weights)
            }
        }
    }
}
