// A step's input tokens that the step before sampled on the device: tokens[pairs[2i + 1]] =
// source[pairs[2i]] for i < n   source [S] i32, pairs [n, 2] i32 (index, row), tokens [T] i32.
// One block; a step feeds at most one token per sequence.
extern "C" __global__ void copy_tokens(const int* source, const int* pairs, int* tokens, int n) {
    begin_after_previous_kernel();
    for (int i = threadIdx.x; i < n; i += blockDim.x) tokens[pairs[2 * i + 1]] = source[pairs[2 * i]];
}
