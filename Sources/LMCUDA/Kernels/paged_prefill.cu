// Flash-attention-style prefill over the paged cache for query tiles: up to 32 consecutive new
// tokens of one sequence share each key/value tile loaded into shared memory.
//   grid (tiles, Hq); 4 warps, 8 query rows each. tiles [n, 2]: first row, row count.
//   positions, token_tables, block_tables as in paged_attention.cu; out [T, Hq, D].
// Per key tile of 32: lane j scores key j against all of the warp's rows at once (q and K from
// shared memory, float4), an online softmax per row, then the rows accumulate p·V with p read
// back from shared memory; lanes own output dims lane, lane+32, ... Causal and sliding-window
// masks per key.
// Dynamic shared memory: (2 * 32 * (D + 4) + 32 * D + 32 * 32) floats. D <= 256, a multiple of 4.
#define TILE 32
#define ROWS_PER_WARP 8

// DIM is compile-time in the common instances (0: read at run time, the generic instance), so
// the row loops unroll and the per-row state stays in registers.
template <typename T, int DIM> __device__ void paged_prefill(
    const T* query, const T* key_cache, const T* value_cache, T* out, const int* tiles,
    const int* token_positions, const int* token_tables, const int* block_tables, int max_blocks,
    int q_heads, int kv_heads, int runtime_dim, int block_size, float scale, int window)
{
    begin_after_previous_kernel();
    constexpr int MAX_LANE_DIMS = DIM > 0 ? (DIM + 31) / 32 : 8;
    const int dim = DIM > 0 ? DIM : runtime_dim;
    extern __shared__ float shared[];
    int stride = dim + 4;
    float* ks = shared;
    float* vs = ks + TILE * stride;
    float* qs = vs + TILE * stride;
    int tile = blockIdx.x, h = blockIdx.y;
    int kv_head = h / (q_heads / kv_heads);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int first_row = tiles[2 * tile], count = tiles[2 * tile + 1];
    const int* table = block_tables + (long)token_tables[first_row] * max_blocks;
    int first_position = token_positions[first_row], last_position = first_position + count - 1;

    for (int i = threadIdx.x; i < TILE * dim; i += blockDim.x) {
        int r = i / dim, d = i % dim;
        qs[r * dim + d] = r < count ? load_as_float(query + ((long)(first_row + r) * q_heads + h) * dim, d) * scale : 0.f;
    }
    float m[ROWS_PER_WARP], l[ROWS_PER_WARP], acc[ROWS_PER_WARP][MAX_LANE_DIMS];
    #pragma unroll
    for (int r = 0; r < ROWS_PER_WARP; r++) {
        m[r] = NEG_INF; l[r] = 0.f;
        #pragma unroll
        for (int i = 0; i < MAX_LANE_DIMS; i++) acc[r][i] = 0.f;
    }
    int begin = window > 0 ? max(0, first_position - window + 1) : 0;
    for (int key0 = begin; key0 <= last_position; key0 += TILE) {
        __syncthreads();
        if (sizeof(T) == 2 && dim % 8 == 0) {
            // bf16: 16-byte loads, all of a thread's issued before any is stored, so the tile
            // costs about one memory latency instead of one per element.
            constexpr int PER_THREAD = (TILE * (DIM > 0 ? DIM : 256) / 8 + 127) / 128;
            const int chunks = TILE * dim / 8;
            uint4 kraw[PER_THREAD], vraw[PER_THREAD];
            #pragma unroll
            for (int u = 0; u < PER_THREAD; u++) {
                int c = threadIdx.x + u * 128;
                int k = c / (dim / 8), j = key0 + k;
                kraw[u] = uint4{0, 0, 0, 0}; vraw[u] = uint4{0, 0, 0, 0};
                if (c < chunks && j <= last_position) {
                    long slot = (long)table[j / block_size] * block_size + j % block_size;
                    long offset = (slot * kv_heads + kv_head) * dim + (c % (dim / 8)) * 8;
                    kraw[u] = *(const uint4*)(key_cache + offset);
                    vraw[u] = *(const uint4*)(value_cache + offset);
                }
            }
            #pragma unroll
            for (int u = 0; u < PER_THREAD; u++) {
                int c = threadIdx.x + u * 128;
                if (c >= chunks) break;
                int k = c / (dim / 8), d = (c % (dim / 8)) * 8;
                const u32* kw = (const u32*)&kraw[u];
                const u32* vw = (const u32*)&vraw[u];
                #pragma unroll
                for (int w = 0; w < 4; w++) {
                    ks[k * stride + d + 2 * w] = __uint_as_float(kw[w] << 16);
                    ks[k * stride + d + 2 * w + 1] = __uint_as_float(kw[w] & 0xffff0000u);
                    vs[k * stride + d + 2 * w] = __uint_as_float(vw[w] << 16);
                    vs[k * stride + d + 2 * w + 1] = __uint_as_float(vw[w] & 0xffff0000u);
                }
            }
        } else {
            for (int i = threadIdx.x; i < TILE * dim; i += blockDim.x) {
                int k = i / dim, d = i % dim, j = key0 + k;
                float kv = 0.f, vv = 0.f;
                if (j <= last_position) {
                    long slot = (long)table[j / block_size] * block_size + j % block_size;
                    long offset = (slot * kv_heads + kv_head) * dim + d;
                    kv = load_as_float(key_cache, offset);
                    vv = load_as_float(value_cache, offset);
                }
                ks[k * stride + d] = kv;
                vs[k * stride + d] = vv;
            }
        }
        __syncthreads();
        // Scores: lane j holds key j's score for each of the warp's 8 rows. Each K vector read
        // from shared memory serves all 8 rows (q is a broadcast read), so the FMAs, not the
        // shared-memory reads, set the pace.
        float s[ROWS_PER_WARP];
        #pragma unroll
        for (int r = 0; r < ROWS_PER_WARP; r++) s[r] = 0.f;
        const float4* k4 = (const float4*)(ks + lane * stride);
        const float4* q4 = (const float4*)(qs + warp * ROWS_PER_WARP * dim);
        #pragma unroll 4
        for (int d = 0; d < dim / 4; d++) {
            float4 b = k4[d];
            #pragma unroll
            for (int r = 0; r < ROWS_PER_WARP; r++) {
                float4 a = q4[r * (dim / 4) + d];
                s[r] += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
            }
        }
        // Online softmax per row; p goes to shared memory for the P·V pass.
        float* ps = ks + TILE * stride * 2 + TILE * dim + warp * ROWS_PER_WARP * TILE;
        #pragma unroll
        for (int r = 0; r < ROWS_PER_WARP; r++) {
            int row = warp * ROWS_PER_WARP + r;
            int position = first_position + row, j = key0 + lane;
            bool visible = row < count && j <= position && (window <= 0 || j > position - window);
            float score = visible ? s[r] : NEG_INF;
            float tile_max = warp_max(score);
            float p = 0.f;
            if (tile_max != NEG_INF) {
                float m_new = fmaxf(m[r], tile_max);
                float correction = __expf(m[r] - m_new);
                p = visible ? __expf(score - m_new) : 0.f;
                l[r] = l[r] * correction + warp_sum(p);
                #pragma unroll
                for (int i = 0; i < MAX_LANE_DIMS; i++) acc[r][i] *= correction;
                m[r] = m_new;
            }
            ps[r * TILE + lane] = p;
        }
        __syncwarp();
        // P·V: each V element read from shared memory serves all 8 rows.
        #pragma unroll 4
        for (int k = 0; k < TILE; k++) {
            float vv[MAX_LANE_DIMS];
            #pragma unroll
            for (int i = 0; i < MAX_LANE_DIMS; i++) vv[i] = lane + 32 * i < dim ? vs[k * stride + lane + 32 * i] : 0.f;
            #pragma unroll
            for (int r = 0; r < ROWS_PER_WARP; r++) {
                float pk = ps[r * TILE + k];
                #pragma unroll
                for (int i = 0; i < MAX_LANE_DIMS; i++) acc[r][i] += pk * vv[i];
            }
        }
        __syncwarp();
    }
    #pragma unroll
    for (int r = 0; r < ROWS_PER_WARP; r++) {
        int row = warp * ROWS_PER_WARP + r;
        if (row >= count) break;
        T* o = out + ((long)(first_row + row) * q_heads + h) * dim;
        #pragma unroll
        for (int i = 0; i < MAX_LANE_DIMS; i++) if (lane + 32 * i < dim) store_float(o, lane + 32 * i, acc[r][i] / l[r]);
    }
}

#define PREFILL_INSTANCE(NAME, TYPE, DIM) \
extern "C" __global__ void NAME(const TYPE* q, const TYPE* kc, const TYPE* vc, TYPE* out, const int* tiles, \
    const int* positions, const int* tables_of_tokens, const int* tables, int max_blocks, int q_heads, int kv_heads, int dim, \
    int block_size, float scale, int window) { \
    paged_prefill<TYPE, DIM>(q, kc, vc, out, tiles, positions, tables_of_tokens, tables, max_blocks, q_heads, kv_heads, dim, \
                             block_size, scale, window); \
}
PREFILL_INSTANCE(paged_prefill_bf16, bf16, 0)
PREFILL_INSTANCE(paged_prefill_f32, float, 0)
PREFILL_INSTANCE(paged_prefill_bf16_d64, bf16, 64)
PREFILL_INSTANCE(paged_prefill_bf16_d128, bf16, 128)
PREFILL_INSTANCE(paged_prefill_bf16_d256, bf16, 256)
