// Log-probabilities of drawn tokens (TokenLogprobs is the reference): for row r of the raw
// logits, the log-sum-exp (the max, then the sum of exp(x - max) in double as the host sums it;
// NaNs left out), the drawn token's logprob and the `top` largest logits by (value desc, id
// asc), picked one per round: each round takes the best element after the previous pick in that
// order, so ties come out in id order and NaNs never.
// raw [R, V] f32, tokens [R] i32, out [R, 1 + 2 top] i32 (the logprob's bits, then (id, logprob
// bits) per top token; (-1, -inf) past a row's last number). A block of 1024 threads per row;
// top is at most 20 (the API's limit), each round a pass over the row (which stays in L2).

__device__ __forceinline__ bool ranks_before(float a, int ia, float b, int ib) {
    return a > b || (a == b && ia < ib);
}

__device__ __forceinline__ double warp_sum_double(double v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// The block's best (value, index) by ranks_before; every thread gets it. Index -1: none.
__device__ void block_best(float& value, int& index) {
    __shared__ float values[32];
    __shared__ int indices[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) {
        float v = __shfl_xor_sync(0xffffffffu, value, offset);
        int i = __shfl_xor_sync(0xffffffffu, index, offset);
        if (i >= 0 && (index < 0 || ranks_before(v, i, value, index))) { value = v; index = i; }
    }
    __syncthreads();
    if (lane == 0) { values[warp] = value; indices[warp] = index; }
    __syncthreads();
    int warps = blockDim.x >> 5;
    value = lane < warps ? values[lane] : 0.f;
    index = lane < warps ? indices[lane] : -1;
    for (int offset = 16; offset > 0; offset >>= 1) {
        float v = __shfl_xor_sync(0xffffffffu, value, offset);
        int i = __shfl_xor_sync(0xffffffffu, index, offset);
        if (i >= 0 && (index < 0 || ranks_before(v, i, value, index))) { value = v; index = i; }
    }
}

extern "C" __global__ void token_logprobs(const float* raw, const int* tokens, int* out, int vocab, int top) {
    begin_after_previous_kernel();
    const float* row = raw + (long)blockIdx.x * vocab;
    int* words = out + (long)blockIdx.x * (1 + 2 * top);

    float maximum = NEG_INF;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) maximum = fmaxf(maximum, row[i]);
    maximum = warp_max(maximum);
    __shared__ float maxima[32];
    __shared__ double sums[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) maxima[warp] = maximum;
    __syncthreads();
    maximum = warp_max(lane < warps ? maxima[lane] : NEG_INF);

    double sum = 0.0;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float v = row[i];
        if (v == v) sum += exp((double)(v - maximum));   // NaNs left out, as fmaxf leaves them out of the max
    }
    sum = warp_sum_double(sum);
    if (lane == 0) sums[warp] = sum;
    __syncthreads();
    sum = warp_sum_double(lane < warps ? sums[lane] : 0.0);
    float log_sum = (float)log(sum) + maximum;

    if (threadIdx.x == 0) words[0] = __float_as_int(row[tokens[blockIdx.x]] - log_sum);
    float last_value = 0.f;
    int last_index = -1;
    for (int k = 0; k < top; k++) {
        float value = 0.f;
        int index = -1;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float v = row[i];
            if (v != v) continue;   // NaN
            if (last_index >= 0 && !ranks_before(last_value, last_index, v, i)) continue;   // picked already
            if (index < 0 || ranks_before(v, i, value, index)) { value = v; index = i; }
        }
        block_best(value, index);   // the same for every thread, so all leave together
        if (index < 0) {   // fewer than top numbers in the row: the rest of the pairs are (-1, -inf)
            for (int j = k + threadIdx.x; j < top; j += blockDim.x) {
                words[1 + 2 * j] = -1;
                words[2 + 2 * j] = __float_as_int(NEG_INF);
            }
            break;
        }
        if (threadIdx.x == 0) {
            words[1 + 2 * k] = index;
            words[2 + 2 * k] = __float_as_int(value - log_sum);
        }
        last_value = value;
        last_index = index;
    }
}
