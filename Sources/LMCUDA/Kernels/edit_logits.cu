// Penalties, biases and bans applied where the logits are (LogitEdit.apply is the reference):
// logits[row, token] = edit(logits[row, token]) for each of E edits, at most one per (row, token).
// logits [R, V] f32; positions [E, 3] i32 (row, token, ban), sorted by row then token; amounts
// [E, 4] f32 (bias, repetition, subtract, subtract if drawn).
// Rows whose request drew a token the host has not read yet (PendingDraw.resolve is the
// reference; pending_rows 0 when none): drawn_index [R] i32 (index into drawn, or -1), pending
// [R, 2] f32 (repetition, first subtract), drawn [S] i32. That token's edit, if any, takes the
// request's repetition and its subtract-if-drawn; otherwise the token gets the penalties fresh.
// Work items: the E edits, then one per row for its drawn token when no edit holds it (so no
// logit is written twice), grid-stride. Rounded intrinsics, so no multiply-add is fused and the
// result is the host's to the bit.

// The drawn token of `row`, or -1.
__device__ __forceinline__ int drawn_token(const int* drawn_index, const int* drawn, int pending_rows, int row) {
    if (pending_rows == 0) return -1;
    int index = drawn_index[row];
    return index < 0 ? -1 : drawn[index];
}

__device__ __forceinline__ float penalize(float value, float repetition, float subtract) {
    if (repetition != 1.0f) value = value > 0.0f ? __fdiv_rn(value, repetition) : __fmul_rn(value, repetition);
    return __fsub_rn(value, subtract);
}

// Whether some edit holds (row, token): binary search of the sorted positions.
__device__ bool has_edit(const int* positions, int edits, int row, int token) {
    int low = 0, high = edits;
    while (low < high) {
        int middle = (low + high) >> 1;
        int r = positions[3 * middle], t = positions[3 * middle + 1];
        if (r < row || (r == row && t < token)) low = middle + 1; else high = middle;
    }
    return low < edits && positions[3 * low] == row && positions[3 * low + 1] == token;
}

extern "C" __global__ void edit_logits(float* logits, const int* positions, const float* amounts, int edits, int vocab,
                                       const int* drawn_index, const float* pending, const int* drawn, int pending_rows) {
    begin_after_previous_kernel();
    // Grid-stride: the launch caps its grid (CUDABackend.blocks), and a batch's repetition
    // penalties alone can bring hundreds of thousands of edits.
    long items = (long)edits + pending_rows;
    for (long e = blockIdx.x * (long)blockDim.x + threadIdx.x; e < items; e += (long)gridDim.x * blockDim.x) {
        if (e < edits) {
            int row = positions[3 * e], token = positions[3 * e + 1];
            long index = (long)row * vocab + token;
            float value = __fadd_rn(logits[index], amounts[4 * e]);
            if (positions[3 * e + 2]) value = NEG_INF;
            bool is_drawn = token == drawn_token(drawn_index, drawn, pending_rows, row);
            float repetition = is_drawn ? pending[2 * row] : amounts[4 * e + 1];
            logits[index] = penalize(value, repetition, amounts[4 * e + (is_drawn ? 3 : 2)]);
        } else {
            int row = (int)(e - edits), token = drawn_token(drawn_index, drawn, pending_rows, row);
            if (token < 0 || token >= vocab || has_edit(positions, edits, row, token)) continue;
            long index = (long)row * vocab + token;
            // + 0 as the reference's zero bias: -0 becomes +0 there too.
            logits[index] = penalize(__fadd_rn(logits[index], 0.0f), pending[2 * row], pending[2 * row + 1]);
        }
    }
}
