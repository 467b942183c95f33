// Draws one token per row of logits [R, V] f32, one block of 1024 threads per row.
// params [R, 5] f32: temperature (0: the argmax, first on ties), top-k (0: all), top-p, min-p, and u,
// a uniform draw in [0, 1) made by the host from the request's seeded stream.
// e_i = exp((l_i - max) / T) goes to scratch [R, V]; each filter is a threshold on e (top-k: the
// k-th largest; top-p: the smallest head of the distribution holding top_p of the top-k mass;
// min-p: e >= min_p), found by radix select over e's bits (e >= 0, so bit order is value order)
// with block reductions in a fixed order (the same inputs always give the same token). Ties at a
// top-k or top-p threshold are all kept. The token is the first id whose inclusive prefix of kept
// e reaches u · Σ kept e.
#define SAMPLE_RADIX_BITS 4
#define SAMPLE_RADIX 16

// Every thread gets the block's totals of 16 per-thread values.
__device__ void block_sum16(const float* local, float* totals, float (*partial)[SAMPLE_RADIX]) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    #pragma unroll
    for (int d = 0; d < SAMPLE_RADIX; d++) {
        float v = warp_sum(local[d]);
        if (lane == 0) partial[warp][d] = v;
    }
    __syncthreads();
    if (threadIdx.x < SAMPLE_RADIX) {
        float sum = 0.f;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) sum += partial[w][threadIdx.x];
        totals[threadIdx.x] = sum;
    }
    __syncthreads();
}

// The largest key T with measure{i : key_i >= T, key_i >= floor} >= goal, where the measure
// counts tokens (weighted false) or sums their e; 8 passes of 4 bits from the top.
__device__ u32 radix_select(const float* e, int vocab, u32 floor, bool weighted, float goal,
                            float* totals, float (*partial)[SAMPLE_RADIX]) {
    u32 prefix = 0;
    float above = 0.f;
    for (int shift = 32 - SAMPLE_RADIX_BITS; shift >= 0; shift -= SAMPLE_RADIX_BITS) {
        u32 high = shift + SAMPLE_RADIX_BITS >= 32 ? 0u : (0xffffffffu << (shift + SAMPLE_RADIX_BITS));
        float local[SAMPLE_RADIX];
        #pragma unroll
        for (int d = 0; d < SAMPLE_RADIX; d++) local[d] = 0.f;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float value = e[i];
            u32 key = __float_as_uint(value);
            if (key < floor || (key & high) != prefix) continue;
            u32 digit = (key >> shift) & (SAMPLE_RADIX - 1);
            float w = weighted ? value : 1.f;
            #pragma unroll
            for (int d = 0; d < SAMPLE_RADIX; d++) local[d] += digit == (u32)d ? w : 0.f;
        }
        block_sum16(local, totals, partial);
        int chosen = 0;
        for (int d = SAMPLE_RADIX - 1; d >= 0; d--) {
            if (above + totals[d] >= goal) { chosen = d; break; }
            above += totals[d];
        }
        prefix |= (u32)chosen << shift;
    }
    return prefix;
}

extern "C" __global__ void sample_rows(const float* logits, const float* params, float* scratch, int* out, int vocab) {
    begin_after_previous_kernel();
    __shared__ float totals[SAMPLE_RADIX];
    __shared__ float partial[32][SAMPLE_RADIX];
    __shared__ float best_values[32];
    __shared__ int best_indices[32], found;
    __shared__ float warp_totals[32];
    __shared__ int warp_last[32];
    const float* row = logits + (long)blockIdx.x * vocab;
    float* e = scratch + (long)blockIdx.x * vocab;
    const float* p = params + blockIdx.x * 5;
    float temperature = p[0], top_p = p[2], min_p = p[3], u = p[4];
    int top_k = (int)p[1];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;

    // The maximum, and its first index.
    float best = NEG_INF;
    int best_index = vocab;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float v = row[i];
        if (v > best) { best = v; best_index = i; }
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        float v = __shfl_xor_sync(0xffffffffu, best, offset);
        int j = __shfl_xor_sync(0xffffffffu, best_index, offset);
        if (v > best || (v == best && j < best_index)) { best = v; best_index = j; }
    }
    if (lane == 0) { best_values[warp] = best; best_indices[warp] = best_index; }
    __syncthreads();
    best = best_values[0]; best_index = best_indices[0];
    for (int w = 1; w < warps; w++) {
        if (best_values[w] > best || (best_values[w] == best && best_indices[w] < best_index)) { best = best_values[w]; best_index = best_indices[w]; }
    }
    if (temperature == 0.f || top_k == 1 || best_index >= vocab) {
        if (threadIdx.x == 0) out[blockIdx.x] = best_index < vocab ? best_index : 0;
        return;
    }

    float inverse = 1.f / temperature;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) e[i] = __expf((row[i] - best) * inverse);
    __syncthreads();
    u32 floor = 0;
    if (top_k > 0 && top_k < vocab) floor = radix_select(e, vocab, 0, false, (float)top_k, totals, partial);
    if (top_p < 1.f) {
        float mass = 0.f;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) if (__float_as_uint(e[i]) >= floor) mass += e[i];
        mass = block_sum(mass);
        floor = max(floor, radix_select(e, vocab, floor, true, top_p * mass, totals, partial));
    }
    if (min_p > 0.f) floor = max(floor, __float_as_uint(min_p));

    // Inverse CDF in id order: each thread sums a contiguous range, an exclusive scan of the
    // ranges says which thread holds the target, and that thread walks its range.
    int per_thread = (vocab + blockDim.x - 1) / blockDim.x;
    int begin = threadIdx.x * per_thread, end = min(vocab, begin + per_thread);
    float local = 0.f;
    int last_kept = -1;
    for (int i = begin; i < end; i++) {
        if (__float_as_uint(e[i]) < floor) continue;
        local += e[i];
        if (e[i] > 0.f) last_kept = i;
    }
    int my_last = last_kept;
    float inclusive = local;
    for (int offset = 1; offset < 32; offset <<= 1) {
        float v = __shfl_up_sync(0xffffffffu, inclusive, offset);
        if (lane >= offset) inclusive += v;
    }
    for (int offset = 16; offset > 0; offset >>= 1) last_kept = max(last_kept, __shfl_xor_sync(0xffffffffu, last_kept, offset));
    if (lane == 31) warp_totals[warp] = inclusive;
    if (lane == 0) warp_last[warp] = last_kept;
    if (threadIdx.x == 0) found = vocab;
    __syncthreads();
    float offset_before = 0.f, total = 0.f;
    int last = -1;
    for (int w = 0; w < warps; w++) {
        if (w < warp) offset_before += warp_totals[w];
        total += warp_totals[w];
        last = max(last, warp_last[w]);
    }
    float exclusive = offset_before + inclusive - local;
    float target = u * total;
    // Every range that ends past the target proposes its first id whose running mass passes it
    // (its last kept id if rounding kept the walk short); the smallest proposal comes from the
    // first range reaching the target, so rounding gaps between ranges cannot skip a token.
    if (local > 0.f && exclusive + local > target) {
        float running = exclusive;
        int proposal = my_last;
        for (int i = begin; i < end; i++) {
            if (__float_as_uint(e[i]) < floor) continue;
            running += e[i];
            if (target < running) { proposal = i; break; }
        }
        if (proposal >= 0) atomicMin(&found, proposal);
    }
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = found < vocab ? found : (last >= 0 ? last : best_index);
}
