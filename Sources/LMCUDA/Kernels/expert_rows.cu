// A mixture of experts' outputs summed back into token rows, in f32:
// add_expert_rows: sum[rows[i], :] += weights[i] * expert_out[i, :]   sum [T, C] f32,
//   expert_out [n, C] (bf16 or f32), rows [n] i32, weights [n] f32. One expert's rows per launch:
//   a token appears at most once among them, so no two threads add to one element.
// store_expert_sum: out = sum, in the activation dtype   sum, out [T, C].
template <typename T> __device__ void add_expert_rows(float* sum, const T* expert_out, const int* rows, const float* weights,
                                                      int n, int columns) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)n * columns; i += (long)gridDim.x * blockDim.x) {
        long r = i / columns, c = i - r * columns;
        sum[(long)rows[r] * columns + c] += weights[r] * load_as_float(expert_out, i);
    }
}
extern "C" __global__ void add_expert_rows_bf16(float* sum, const bf16* expert_out, const int* rows, const float* weights, int n, int columns) {
    add_expert_rows(sum, expert_out, rows, weights, n, columns);
}
extern "C" __global__ void add_expert_rows_f32(float* sum, const float* expert_out, const int* rows, const float* weights, int n, int columns) {
    add_expert_rows(sum, expert_out, rows, weights, n, columns);
}

template <typename T> __device__ void store_expert_sum(const float* sum, T* out, long n) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) store_float(out, i, sum[i]);
}
extern "C" __global__ void store_expert_sum_bf16(const float* sum, bf16* out, long n) { store_expert_sum(sum, out, n); }
extern "C" __global__ void store_expert_sum_f32(const float* sum, float* out, long n) { store_expert_sum(sum, out, n); }
