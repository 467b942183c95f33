// out[t, n] = Σ_k x[t, k] · W[n, k] for a few tokens (T ≤ 8 · TILES, at most 64) on tensor cores,
// streaming the weights once ("swap AB": the weights are mma's A operand, 16 rows a fragment,
// and the tokens its B operand, 8 a fragment). Each lane loads 16 contiguous bytes of a weight
// row and the same 16 bytes' k range of an x row, and both operands take the same permutation
// of k inside a 32-wide block, so no ldmatrix or shuffle is needed: a lane's values 0-3 (of the
// 8) of each row feed the first k16 mma as (2c, 2c+1) and (2c+8, 2c+9), values 4-7 the second.
//   grid (ceil(N / 128), splits); 256 threads, 8 warps of 16 rows. Split s sums the 128-wide k
//   chunks [s · per_split, (s + 1) · per_split); with one split the block stores bf16 out [T, N],
//   with more, f32 partial [splits, T, N] that skinny_gemm_reduce sums. x's chunk [8 · TILES, 128]
//   goes through two shared-memory stages (cp.async; rows past T repeat row T - 1 and are never
//   stored); the weights go straight to registers, one chunk ahead. K a multiple of 128, N of 16.
#define SKINNY_WARPS 8
#define SKINNY_CHUNK 128

template <int V> struct SkinnySlot { static constexpr int value = V; };

// The 16-byte unit u (of 16) of row r in a stage: odd rows swap the two 64-byte halves of each
// 128-byte line, so the 8 lanes of a quarter-warp (two rows, four units each) hit 32 distinct banks.
__device__ __forceinline__ int skinny_unit(int r, int u) { return r * 16 + (u ^ ((r & 1) << 2)); }

template <int TILES> __device__ void skinny_gemm(const bf16* __restrict__ x, const bf16* __restrict__ weight, bf16* __restrict__ out,
                                                 float* __restrict__ partial, int tokens, int rows, int columns, int per_split) {
    constexpr int XROWS = 8 * TILES;
    __shared__ __align__(16) uint4 stage[2][XROWS * 16];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, c = lane & 3;
    int chunks = columns / SKINNY_CHUNK;
    int first = blockIdx.y * per_split, last = min(chunks, first + per_split);
    int n0 = blockIdx.x * (SKINNY_WARPS * 16) + warp * 16;
    // Rows past N read row N - 1 (never stored), so every lane keeps loading.
    const uint4* w_lo = (const uint4*)(weight + (long)min(n0 + g, rows - 1) * columns);
    const uint4* w_hi = (const uint4*)(weight + (long)min(n0 + g + 8, rows - 1) * columns);
    float acc[TILES][4];
    #pragma unroll
    for (int i = 0; i < TILES; i++) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f;

    begin_after_previous_kernel();
    auto load_x = [&](int chunk, int buffer) {
        for (int i = threadIdx.x; i < XROWS * 16; i += blockDim.x) {
            int r = i >> 4, u = i & 15;
            const bf16* source = x + (long)min(r, tokens - 1) * columns + (long)chunk * SKINNY_CHUNK + u * 8;
            copy_async_16(&stage[buffer][skinny_unit(r, u)], source);
        }
        commit_async_copies();
    };
    // A lane's weights for one chunk: four 32-wide blocks, rows g and g + 8. Two slots (this chunk
    // and the next), always indexed by constants so they stay in registers.
    uint4 w[2][4][2];
    auto load_w = [&](int chunk, auto slot) {
        #pragma unroll
        for (int b = 0; b < 4; b++) {
            int unit = chunk * (SKINNY_CHUNK / 8) + b * 4 + c;
            w[slot.value][b][0] = __ldg(w_lo + unit);
            w[slot.value][b][1] = __ldg(w_hi + unit);
        }
    };
    // One chunk from stage and slot S (chunk - first is S modulo 2), the next one's loads issued first.
    auto step = [&](int chunk, auto slot) {
        constexpr int S = decltype(slot)::value;
        if (chunk + 1 < last) {
            load_x(chunk + 1, 1 - S);
            load_w(chunk + 1, SkinnySlot<1 - S>());
            wait_async_copies<1>();
        } else {
            wait_async_copies<0>();
        }
        __syncthreads();
        #pragma unroll
        for (int b = 0; b < 4; b++) {
            const u32* lo = (const u32*)&w[S][b][0];
            const u32* hi = (const u32*)&w[S][b][1];
            #pragma unroll
            for (int tile = 0; tile < TILES; tile++) {
                uint4 xv = stage[S][skinny_unit(tile * 8 + g, b * 4 + c)];
                const u32* xs = (const u32*)&xv;
                u32 a0[4] = {lo[0], hi[0], lo[1], hi[1]};
                mma_bf16(acc[tile], a0, xs[0], xs[1]);
                u32 a1[4] = {lo[2], hi[2], lo[3], hi[3]};
                mma_bf16(acc[tile], a1, xs[2], xs[3]);
            }
        }
        __syncthreads();   // the copies issued in the next step overwrite this stage
    };
    if (first < last) {
        load_x(first, 0);
        load_w(first, SkinnySlot<0>());
    }
    for (int chunk = first; chunk < last; chunk += 2) {
        step(chunk, SkinnySlot<0>());
        if (chunk + 1 < last) step(chunk + 1, SkinnySlot<1>());
    }
    // C (16 x 8): (g, 2c), (g, 2c + 1), (g + 8, 2c), (g + 8, 2c + 1) = (weight row, token).
    #pragma unroll
    for (int tile = 0; tile < TILES; tile++) {
        #pragma unroll
        for (int i = 0; i < 4; i++) {
            int n = n0 + g + (i >> 1) * 8, t = tile * 8 + 2 * c + (i & 1);
            if (n >= rows || t >= tokens) continue;
            if (gridDim.y == 1) out[(long)t * rows + n] = float_to_bf16(acc[tile][i]);
            else partial[((long)blockIdx.y * tokens + t) * rows + n] = acc[tile][i];
        }
    }
}

#define SKINNY_BOUNDS __launch_bounds__(256)
#define SKINNY_INSTANCE(NAME, TILES) \
extern "C" __global__ void SKINNY_BOUNDS NAME(const bf16* x, const bf16* weight, bf16* out, float* partial, \
                                                        int tokens, int rows, int columns, int per_split) { \
    skinny_gemm<TILES>(x, weight, out, partial, tokens, rows, columns, per_split); \
}
SKINNY_INSTANCE(skinny_gemm_t8, 1)
SKINNY_INSTANCE(skinny_gemm_t16, 2)
SKINNY_INSTANCE(skinny_gemm_t32, 4)
SKINNY_INSTANCE(skinny_gemm_t64, 8)

// out[i] = Σ_s partial[s, i] as bf16, over count = T · N values; grid-stride.
extern "C" __global__ void skinny_gemm_reduce(const float* partial, bf16* out, int splits, long count) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < count; i += (long)gridDim.x * blockDim.x) {
        float sum = 0.f;
        for (int s = 0; s < splits; s++) sum += partial[s * count + i];
        out[i] = float_to_bf16(sum);
    }
}
