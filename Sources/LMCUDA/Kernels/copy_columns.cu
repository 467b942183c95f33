// dst[r, :] = src[r, offset : offset + width]: one projection's columns out of a packed
// projection's output (q, k, v out of [T, Nq + Nk + Nv]), in 16-byte moves.
//   src [rows, total] bf16, dst [rows, width] bf16; total, offset and width multiples of 8.
extern "C" __global__ void copy_columns_bf16(const uint4* __restrict__ src, uint4* __restrict__ dst, int rows, int total, int offset, int width) {
    begin_after_previous_kernel();
    int vectors = width / 8, stride = total / 8, first = offset / 8;
    long n = (long)rows * vectors;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        long r = i / vectors, c = i - r * vectors;
        dst[i] = src[r * stride + first + c];
    }
}
