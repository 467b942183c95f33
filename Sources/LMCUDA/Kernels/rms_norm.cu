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
