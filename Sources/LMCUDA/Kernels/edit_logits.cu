// Penalties, biases and bans applied where the logits are (LogitEdit.apply is the reference):
// logits[row, token] = edit(logits[row, token]) for each of E edits, at most one per (row, token).
// logits [R, V] f32; positions [E, 3] i32 (row, token, ban); amounts [E, 3] f32 (bias, repetition,
// subtract). A thread per edit, grid-stride. Rounded intrinsics, so no multiply-add is fused and the result
// is the host's to the bit.
extern "C" __global__ void edit_logits(float* logits, const int* positions, const float* amounts, int edits, int vocab) {
    begin_after_previous_kernel();
    // Grid-stride: the launch caps its grid (CUDABackend.blocks), and a batch's repetition
    // penalties alone can bring hundreds of thousands of edits.
    for (long e = blockIdx.x * (long)blockDim.x + threadIdx.x; e < edits; e += (long)gridDim.x * blockDim.x) {
        long index = (long)positions[3 * e] * vocab + positions[3 * e + 1];
        float value = __fadd_rn(logits[index], amounts[3 * e]);
        if (positions[3 * e + 2]) value = NEG_INF;
        float repetition = amounts[3 * e + 1];
        if (repetition != 1.0f) value = value > 0.0f ? __fdiv_rn(value, repetition) : __fmul_rn(value, repetition);
        logits[index] = __fsub_rn(value, amounts[3 * e + 2]);
    }
}
