// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight   x, out [R, C]; weight [C]; one block per row,
// f32 accumulation. out may alias x.
template <typename T> __device__ void rms_norm(const T* x, const T* weight, T* out, int columns, float epsilon) {
    begin_after_previous_kernel();
    long row = blockIdx.x;
    const T* in = x + row * columns;
    float sum = 0.f;
    for (int c = threadIdx.x; c < columns; c += blockDim.x) { float v = load_as_float(in, c); sum += v * v; }
    float inverse = rsqrtf(block_sum(sum) / columns + epsilon);
    T* to = out + row * columns;
    for (int c = threadIdx.x; c < columns; c += blockDim.x) store_float(to, c, load_as_float(in, c) * inverse * load_as_float(weight, c));
}
extern "C" __global__ void rms_norm_bf16(const bf16* x, const bf16* weight, bf16* out, int columns, float epsilon) { rms_norm(x, weight, out, columns, epsilon); }
extern "C" __global__ void rms_norm_f32(const float* x, const float* weight, float* out, int columns, float epsilon) { rms_norm(x, weight, out, columns, epsilon); }

// The residual add fused with the next norm: residual[r] += delta[r]; out[r] = rms_norm(residual[r]).
// The norm reads the sum as stored (rounded to T), as the two separate ops would.
template <typename T> __device__ void add_rms_norm(T* residual, const T* delta, const T* weight, T* out, int columns, float epsilon) {
    begin_after_previous_kernel();
    long row = blockIdx.x;
    T* res = residual + row * columns;
    const T* d = delta + row * columns;
    float sum = 0.f;
    for (int c = threadIdx.x; c < columns; c += blockDim.x) {
        store_float(res, c, load_as_float(res, c) + load_as_float(d, c));
        float v = load_as_float(res, c);
        sum += v * v;
    }
    float inverse = rsqrtf(block_sum(sum) / columns + epsilon);
    T* to = out + row * columns;
    for (int c = threadIdx.x; c < columns; c += blockDim.x) store_float(to, c, load_as_float(res, c) * inverse * load_as_float(weight, c));
}
extern "C" __global__ void add_rms_norm_bf16(bf16* residual, const bf16* delta, const bf16* weight, bf16* out, int columns, float epsilon) {
    add_rms_norm(residual, delta, weight, out, columns, epsilon);
}
extern "C" __global__ void add_rms_norm_f32(float* residual, const float* delta, const float* weight, float* out, int columns, float epsilon) {
    add_rms_norm(residual, delta, weight, out, columns, epsilon);
}

// bf16 rows of at most 8 · blockDim.x columns, a multiple of 8: each thread keeps its 8 values in
// registers, so memory is touched once (16-byte loads and stores) and the norm weight, which no
// kernel writes, is read before waiting for the previous kernel. Same rounding as above (the sum
// rounded to bf16 before it is squared).
__device__ __forceinline__ void store_normalized8(bf16* to, const float* v, uint4 weight, float inverse) {
    float w[8], o[8];
    unpack8(weight, w);
    #pragma unroll
    for (int i = 0; i < 8; i++) o[i] = v[i] * inverse * w[i];
    *(uint4*)to = pack8(o);
}
template <bool ADD> __device__ void rms_norm_x8(bf16* x, const bf16* delta, const bf16* weight, bf16* out, int columns, float epsilon) {
    int c = threadIdx.x * 8;
    bool mine = c < columns;
    uint4 w = mine ? *(const uint4*)(weight + c) : make_uint4(0, 0, 0, 0);
    begin_after_previous_kernel();
    long row = (long)blockIdx.x * columns;
    float v[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, sum = 0.f;
    if (mine) {
        unpack8(*(const uint4*)(x + row + c), v);
        if constexpr (ADD) {   // x is the residual: x += delta, stored rounded, and the norm reads that
            float d[8];
            unpack8(*(const uint4*)(delta + row + c), d);
            #pragma unroll
            for (int i = 0; i < 8; i++) v[i] = bf16_to_float(float_to_bf16(v[i] + d[i]));
            *(uint4*)(x + row + c) = pack8(v);
        }
    }
    #pragma unroll
    for (int i = 0; i < 8; i++) sum += v[i] * v[i];
    float inverse = rsqrtf(block_sum(sum) / columns + epsilon);
    if (mine) store_normalized8(out + row + c, v, w, inverse);
}
extern "C" __global__ void rms_norm_bf16_x8(const bf16* x, const bf16* weight, bf16* out, int columns, float epsilon) {
    rms_norm_x8<false>((bf16*)x, nullptr, weight, out, columns, epsilon);
}
extern "C" __global__ void add_rms_norm_bf16_x8(bf16* residual, const bf16* delta, const bf16* weight, bf16* out, int columns, float epsilon) {
    rms_norm_x8<true>(residual, delta, weight, out, columns, epsilon);
}
