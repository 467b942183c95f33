// out[t, n] = Σ_k x[t, k] · W[n, k] for a few tokens (T <= 8): memory-bound, so one pass over
// the weights serves every token. Each warp takes whole rows (grid-stride); lanes read 16 bytes
// (8 bf16) per load, four loads in flight; fp32 accumulation.
//   x [T, K] bf16, W [N, K] bf16, out [T, N] (bf16 or f32). K a multiple of 8.
#define GEMV_MAX_T 8

__device__ __forceinline__ void bf16x8_to_float(uint4 v, float* f) {
    f[0] = __uint_as_float(v.x << 16); f[1] = __uint_as_float(v.x & 0xffff0000u);
    f[2] = __uint_as_float(v.y << 16); f[3] = __uint_as_float(v.y & 0xffff0000u);
    f[4] = __uint_as_float(v.z << 16); f[5] = __uint_as_float(v.z & 0xffff0000u);
    f[6] = __uint_as_float(v.w << 16); f[7] = __uint_as_float(v.w & 0xffff0000u);
}

template <typename T> __device__ void gemv(const bf16* __restrict__ x, const bf16* __restrict__ weight, T* __restrict__ out,
                                           int tokens, int rows, int columns) {
    int lane = threadIdx.x & 31;
    int warps = (gridDim.x * blockDim.x) >> 5;
    int vectors = columns / 8;
    const uint4* x4 = (const uint4*)x;
    for (int n = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; n < rows; n += warps) {
        const uint4* w4 = (const uint4*)(weight + (long)n * columns);
        float acc[GEMV_MAX_T];
        #pragma unroll
        for (int t = 0; t < GEMV_MAX_T; t++) acc[t] = 0.f;
        int v = lane;
        for (; v + 96 < vectors; v += 128) {
            uint4 w[4];
            #pragma unroll
            for (int u = 0; u < 4; u++) w[u] = w4[v + 32 * u];
            #pragma unroll
            for (int u = 0; u < 4; u++) {
                float wf[8];
                bf16x8_to_float(w[u], wf);
                #pragma unroll
                for (int t = 0; t < GEMV_MAX_T; t++) {
                    if (t >= tokens) break;
                    float xf[8];
                    bf16x8_to_float(x4[(long)t * vectors + v + 32 * u], xf);
                    #pragma unroll
                    for (int i = 0; i < 8; i++) acc[t] += wf[i] * xf[i];
                }
            }
        }
        for (; v < vectors; v += 32) {
            float wf[8];
            bf16x8_to_float(w4[v], wf);
            #pragma unroll
            for (int t = 0; t < GEMV_MAX_T; t++) {
                if (t >= tokens) break;
                float xf[8];
                bf16x8_to_float(x4[(long)t * vectors + v], xf);
                #pragma unroll
                for (int i = 0; i < 8; i++) acc[t] += wf[i] * xf[i];
            }
        }
        #pragma unroll
        for (int t = 0; t < GEMV_MAX_T; t++) {
            if (t >= tokens) break;
            float sum = warp_sum(acc[t]);
            if (lane == 0) store_float(out, (long)t * rows + n, sum);
        }
    }
}
extern "C" __global__ void gemv_bf16(const bf16* x, const bf16* w, bf16* out, int tokens, int rows, int columns) { gemv(x, w, out, tokens, rows, columns); }
extern "C" __global__ void gemv_f32(const bf16* x, const bf16* w, float* out, int tokens, int rows, int columns) { gemv(x, w, out, tokens, rows, columns); }
