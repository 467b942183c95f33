// Causal attention of each new token over its sequence's paged keys and values (GQA).
//   query [T, Hq, D]; caches [blocks, block_size, Hkv, D]; out [T, Hq, D]
//   token_positions [T]: absolute position p of each token (it sees keys j <= p, and with a
//   sliding window W only j > p - W); token_tables [T]: row of block_tables for its sequence;
//   block_tables [S, max_blocks].
// Grid (T, Hq), 4 warps per block: each warp walks every 4th key with an online softmax, lanes
// own dims lane, lane + 32, ...; the warps merge at the end. D <= 256.
#define WARPS 4
#define MAX_PER_LANE 8

template <typename T> __device__ void paged_attention(
    const T* query, const T* key_cache, const T* value_cache, T* out,
    const int* token_positions, const int* token_tables, const int* block_tables, int max_blocks,
    int q_heads, int kv_heads, int dim, int block_size, float scale, int window)
{
    int t = blockIdx.x, h = blockIdx.y;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int per_lane = (dim + 31) / 32;
    int kv_head = h / (q_heads / kv_heads);
    int position = token_positions[t];
    const int* table = block_tables + (long)token_tables[t] * max_blocks;
    const T* q = query + ((long)t * q_heads + h) * dim;
    float qv[MAX_PER_LANE], acc[MAX_PER_LANE];
    #pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++) { qv[i] = lane + 32 * i < dim ? load_as_float(q, lane + 32 * i) * scale : 0.f; acc[i] = 0.f; }
    float m = NEG_INF, l = 0.f;
    int first = window > 0 ? max(0, position - window + 1) : 0;
    for (int j = first + warp; j <= position; j += WARPS) {
        long slot = (long)table[j / block_size] * block_size + j % block_size;
        const T* k = key_cache + (slot * kv_heads + kv_head) * dim;
        float dot = 0.f;
        #pragma unroll
        for (int i = 0; i < MAX_PER_LANE; i++) if (i < per_lane && lane + 32 * i < dim) dot += qv[i] * load_as_float(k, lane + 32 * i);
        float s = warp_sum(dot);
        float m_new = fmaxf(m, s);
        float correction = __expf(m - m_new), p = __expf(s - m_new);
        l = l * correction + p;
        const T* v = value_cache + (slot * kv_heads + kv_head) * dim;
        #pragma unroll
        for (int i = 0; i < MAX_PER_LANE; i++) if (i < per_lane && lane + 32 * i < dim) acc[i] = acc[i] * correction + p * load_as_float(v, lane + 32 * i);
        m = m_new;
    }
    __shared__ float warp_m[WARPS], warp_l[WARPS];
    __shared__ float warp_acc[WARPS][256];
    if (lane == 0) { warp_m[warp] = m; warp_l[warp] = l; }
    #pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++) if (i < per_lane && lane + 32 * i < dim) warp_acc[warp][lane + 32 * i] = acc[i];
    __syncthreads();
    float total_m = NEG_INF;
    for (int w = 0; w < WARPS; w++) total_m = fmaxf(total_m, warp_m[w]);
    float total_l = 0.f;
    for (int w = 0; w < WARPS; w++) total_l += warp_m[w] == NEG_INF ? 0.f : warp_l[w] * __expf(warp_m[w] - total_m);
    T* o = out + ((long)t * q_heads + h) * dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
        float sum = 0.f;
        for (int w = 0; w < WARPS; w++) if (warp_m[w] != NEG_INF) sum += warp_acc[w][d] * __expf(warp_m[w] - total_m);
        store_float(o, d, sum / total_l);
    }
}

extern "C" __global__ void paged_attention_bf16(const bf16* q, const bf16* kc, const bf16* vc, bf16* out,
    const int* positions, const int* tables_of_tokens, const int* tables, int max_blocks,
    int q_heads, int kv_heads, int dim, int block_size, float scale, int window) {
    paged_attention(q, kc, vc, out, positions, tables_of_tokens, tables, max_blocks, q_heads, kv_heads, dim, block_size, scale, window);
}
extern "C" __global__ void paged_attention_f32(const float* q, const float* kc, const float* vc, float* out,
    const int* positions, const int* tables_of_tokens, const int* tables, int max_blocks,
    int q_heads, int kv_heads, int dim, int block_size, float scale, int window) {
    paged_attention(q, kc, vc, out, positions, tables_of_tokens, tables, max_blocks, q_heads, kv_heads, dim, block_size, scale, window);
}
