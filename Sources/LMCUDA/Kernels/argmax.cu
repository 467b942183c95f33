// out[r] = index of the largest x[r, :] (the first on ties)   x [R, V] f32; one block per row.
extern "C" __global__ void argmax_f32(const float* x, int* out, int columns) {
    begin_after_previous_kernel();
    long row = blockIdx.x;
    const float* in = x + row * columns;
    float best = NEG_INF;
    int index = 0x7fffffff;
    for (int c = threadIdx.x; c < columns; c += blockDim.x) {
        float v = in[c];
        if (v > best || index == 0x7fffffff) { best = v; index = c; }
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
