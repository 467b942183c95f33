// out[t, n] += bias[n]   out [T, N] (bf16 or f32), bias [N] bf16.
template <typename T> __device__ void add_bias(T* out, const bf16* bias, long rows, int columns) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < rows * columns; i += (long)gridDim.x * blockDim.x)
        store_float(out, i, load_as_float(out, i) + bf16_to_float(bias[i % columns]));
}
extern "C" __global__ void add_bias_bf16(bf16* out, const bf16* bias, long rows, int columns) { add_bias(out, bias, rows, columns); }
extern "C" __global__ void add_bias_f32(float* out, const bf16* bias, long rows, int columns) { add_bias(out, bias, rows, columns); }
