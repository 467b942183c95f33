// out[r] = index of the largest x[r, :] (the first on ties)   x [R, V] f32; one block per row.
extern "C" __global__ void argmax_f32(const float* x, int* out, int columns) {
    begin_after_previous_kernel();
    long row = blockIdx.x;
    const float* in = x + row * columns;
    float best = NEG_INF;
    int index = 0x7fffffff;
    if ((columns & 3) == 0) {
        // 16-byte loads, four in flight per thread (a row of 128K logits in ~8 round trips, not 125);
        // each thread still sees its columns in increasing order, so it keeps the first of equals.
        const float4* in4 = (const float4*)in;
        int quads = columns >> 2, step = blockDim.x;
        for (int q = threadIdx.x; q < quads; q += 4 * step) {
            float4 v[4];
            #pragma unroll
            for (int u = 0; u < 4; u++) if (q + u * step < quads) v[u] = in4[q + u * step];
            #pragma unroll
            for (int u = 0; u < 4; u++) {
                if (q + u * step >= quads) break;
                float e[4] = {v[u].x, v[u].y, v[u].z, v[u].w};
                #pragma unroll
                for (int i = 0; i < 4; i++) if (e[i] > best || index == 0x7fffffff) { best = e[i]; index = (q + u * step) * 4 + i; }
            }
        }
    } else {
        for (int c = threadIdx.x; c < columns; c += blockDim.x) {
            float v = in[c];
            if (v > best || index == 0x7fffffff) { best = v; index = c; }
        }
    }
    __shared__ float values[32];
    __shared__ int indices[32];
    for (int offset = 16; offset > 0; offset >>= 1) {
        float other = __shfl_xor_sync(0xffffffffu, best, offset);
        int other_index = __shfl_xor_sync(0xffffffffu, index, offset);
        if (other > best || (other == best && other_index < index)) { best = other; index = other_index; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { values[warp] = best; indices[warp] = index; }
    __syncthreads();
    if (warp == 0) {
        int warps = blockDim.x >> 5;
        best = lane < warps ? values[lane] : NEG_INF;
        index = lane < warps ? indices[lane] : 0x7fffffff;
        for (int offset = 16; offset > 0; offset >>= 1) {
            float other = __shfl_xor_sync(0xffffffffu, best, offset);
            int other_index = __shfl_xor_sync(0xffffffffu, index, offset);
            if (other > best || (other == best && other_index < index)) { best = other; index = other_index; }
        }
        if (lane == 0) out[row] = index == 0x7fffffff ? 0 : index;
    }
}
