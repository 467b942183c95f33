// Elementwise ops over n elements of one dtype.
// add: out = a + b; scale: out = x * factor; gated activation: out = act(gate) * up.

template <typename T> __device__ void add(const T* a, const T* b, T* out, long n) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        store_float(out, i, load_as_float(a, i) + load_as_float(b, i));
}
extern "C" __global__ void add_bf16(const bf16* a, const bf16* b, bf16* out, long n) { add(a, b, out, n); }
extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long n) { add(a, b, out, n); }

template <typename T> __device__ void scale(const T* x, T* out, float factor, long n) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        store_float(out, i, load_as_float(x, i) * factor);
}
extern "C" __global__ void scale_bf16(const bf16* x, bf16* out, float factor, long n) { scale(x, out, factor, n); }
extern "C" __global__ void scale_f32(const float* x, float* out, float factor, long n) { scale(x, out, factor, n); }

template <typename T> __device__ void gated(const T* gate, const T* up, T* out, int activation, long n) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        store_float(out, i, gated_value(load_as_float(gate, i), load_as_float(up, i), activation));
}
extern "C" __global__ void gated_bf16(const bf16* gate, const bf16* up, bf16* out, int activation, long n) { gated(gate, up, out, activation, n); }
extern "C" __global__ void gated_f32(const float* gate, const float* up, float* out, int activation, long n) { gated(gate, up, out, activation, n); }

// The same from a packed gate|up projection: out[t, i] = act(packed[t, i]) * packed[t, F + i]
//   packed [T, 2F], out [T, F] (no column copies out of the packed GEMM's output).
extern "C" __global__ void gated_packed_bf16(const bf16* packed, bf16* out, int activation, long rows, int width) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < rows * width; i += (long)gridDim.x * blockDim.x) {
        long r = i / width, c = i - r * width;
        const bf16* row = packed + r * 2 * width;
        store_float(out, i, gated_value(bf16_to_float(row[c]), bf16_to_float(row[width + c]), activation));
    }
}
