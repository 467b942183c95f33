// A streaming copy of n 16-byte vectors, for measuring the card's memory bandwidth
// (bytes read plus written) next to device-to-device memcpy.
extern "C" __global__ void copy_vectors(const uint4* __restrict__ from, uint4* __restrict__ to, long n) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) to[i] = from[i];
}
