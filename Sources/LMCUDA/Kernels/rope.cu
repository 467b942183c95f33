// rope_angles: cos/sin[t, i] = cos/sin(positions[t] * inv_freq[i])   positions [T], inv_freq [half], cos/sin [T, half] f32.
// Grid-stride: the launch caps its grid (a long chunk at a wide head has more pairs than threads).
extern "C" __global__ void rope_angles(const int* positions, const float* inverse_frequencies, float* cos_out, float* sin_out, int tokens, int half) {
    begin_after_previous_kernel();
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)tokens * half; i += (long)gridDim.x * blockDim.x) {
        int t = i / half, f = i % half;
        float angle = (float)positions[t] * inverse_frequencies[f];
        float s, c;
        sincosf(angle, &s, &c);
        cos_out[i] = c;
        sin_out[i] = s;
    }
}

// Rotates the first `rotary` dims of each head in place   x [T, H, D], cos/sin [T, rotary/2].
// style 0 (neox): pairs (i, i + rotary/2); style 1 (interleaved): pairs (2i, 2i + 1).
// One thread per (token, head, pair).
template <typename T> __device__ void rope(T* x, const float* cos_in, const float* sin_in, int tokens, int heads, int dim, int rotary, int style) {
    begin_after_previous_kernel();
    int half = rotary / 2;
    long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
    if (i >= (long)tokens * heads * half) return;
    int pair = i % half;
    long head = i / half;
    int t = head / heads;
    T* base = x + head * dim;
    int first = style == 0 ? pair : 2 * pair, second = style == 0 ? pair + half : 2 * pair + 1;
    float a = load_as_float(base, first), b = load_as_float(base, second);
    float c = cos_in[(long)t * half + pair], s = sin_in[(long)t * half + pair];
    store_float(base, first, a * c - b * s);
    store_float(base, second, b * c + a * s);
}
extern "C" __global__ void rope_bf16(bf16* x, const float* c, const float* s, int tokens, int heads, int dim, int rotary, int style) { rope(x, c, s, tokens, heads, dim, rotary, style); }
extern "C" __global__ void rope_f32(float* x, const float* c, const float* s, int tokens, int heads, int dim, int rotary, int style) { rope(x, c, s, tokens, heads, dim, rotary, style); }
