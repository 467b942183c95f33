// Reference dequantizers of the GGUF block formats, written as plain loops the compiler
// vectorizes for each level (included by kernels_generic.h). Block layouts follow ggml
// (ggml-common.h) and the `gguf` Python package's `gguf.quants`, which the tests check against
// bit for bit: products and sums are rounded separately (no fused multiply-add), as numpy does.
// Each function dequantizes `blocks` consecutive blocks from `src` into `out`.

#define LM_NO_CONTRACT _Pragma("clang fp contract(off)")

static inline float g_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return g_f16_to_f32(h);
}

// Q8_0: d (f16), q[32] (i8): x = d * q.
static void g_dequantize_q8_0(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++, src += 34, out += 32) {
        const float d = g_half(src);
        const int8_t *q = (const int8_t *)(src + 2);
        for (int j = 0; j < 32; j++) out[j] = d * (float)q[j];
    }
}

// Q4_0: d, qs[16]: x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8).
static void g_dequantize_q4_0(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++, src += 18, out += 32) {
        const float d = g_half(src);
        const uint8_t *qs = src + 2;
        for (int j = 0; j < 16; j++) {
            out[j] = d * (float)((int)(qs[j] & 15) - 8);
            out[j + 16] = d * (float)((int)(qs[j] >> 4) - 8);
        }
    }
}

// Q4_1: d, m, qs[16]: x = d * q + m.
static void g_dequantize_q4_1(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    LM_NO_CONTRACT
    for (int64_t b = 0; b < blocks; b++, src += 20, out += 32) {
        const float d = g_half(src), m = g_half(src + 2);
        const uint8_t *qs = src + 4;
        for (int j = 0; j < 16; j++) {
            out[j] = d * (float)(qs[j] & 15) + m;
            out[j + 16] = d * (float)(qs[j] >> 4) + m;
        }
    }
}

// Q5_0: d, qh (u32, bit j = high bit of value j), qs[16]: x = d * (q - 16).
static void g_dequantize_q5_0(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++, src += 22, out += 32) {
        const float d = g_half(src);
        uint32_t qh;
        memcpy(&qh, src + 2, 4);
        const uint8_t *qs = src + 6;
        for (int j = 0; j < 16; j++) {
            const int lo = (qs[j] & 15) | (int)(((qh >> j) & 1) << 4);
            const int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            out[j] = d * (float)(lo - 16);
            out[j + 16] = d * (float)(hi - 16);
        }
    }
}

// Q5_1: d, m, qh, qs[16]: x = d * q + m.
static void g_dequantize_q5_1(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    LM_NO_CONTRACT
    for (int64_t b = 0; b < blocks; b++, src += 24, out += 32) {
        const float d = g_half(src), m = g_half(src + 2);
        uint32_t qh;
        memcpy(&qh, src + 4, 4);
        const uint8_t *qs = src + 8;
        for (int j = 0; j < 16; j++) {
            const int lo = (qs[j] & 15) | (int)(((qh >> j) & 1) << 4);
            const int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            out[j] = d * (float)lo + m;
            out[j + 16] = d * (float)hi + m;
        }
    }
}

// The 6-bit scale and min of sub-block j (0..7) packed into 12 bytes (Q4_K, Q5_K).
static inline void g_scale_min_k4(int j, const uint8_t *q, int *scale, int *min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q4_K: 256 values in 8 sub-blocks of 32. d, dmin (f16), scales[12], qs[128]; byte chunk c
// (32 bytes) holds sub-block 2c in its low nibbles and 2c + 1 in its high nibbles.
// x = (d * scale) * q - dmin * min.
static void g_dequantize_q4_k(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    LM_NO_CONTRACT
    for (int64_t b = 0; b < blocks; b++, src += 144, out += 256) {
        const float d = g_half(src), dmin = g_half(src + 2);
        const uint8_t *scales = src + 4, *qs = src + 16;
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1;
            g_scale_min_k4(2 * c, scales, &sc0, &m0);
            g_scale_min_k4(2 * c + 1, scales, &sc1, &m1);
            const float d0 = d * (float)sc0, dm0 = dmin * (float)m0;
            const float d1 = d * (float)sc1, dm1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) {
                out[64 * c + l] = d0 * (float)(qs[32 * c + l] & 15) - dm0;
                out[64 * c + 32 + l] = d1 * (float)(qs[32 * c + l] >> 4) - dm1;
            }
        }
    }
}

// Q5_K: Q4_K plus qh[32]: bit s of qh[l] is the fifth bit of value l of sub-block s.
static void g_dequantize_q5_k(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    LM_NO_CONTRACT
    for (int64_t b = 0; b < blocks; b++, src += 176, out += 256) {
        const float d = g_half(src), dmin = g_half(src + 2);
        const uint8_t *scales = src + 4, *qh = src + 16, *qs = src + 48;
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1;
            g_scale_min_k4(2 * c, scales, &sc0, &m0);
            g_scale_min_k4(2 * c + 1, scales, &sc1, &m1);
            const float d0 = d * (float)sc0, dm0 = dmin * (float)m0;
            const float d1 = d * (float)sc1, dm1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) {
                const int lo = (qs[32 * c + l] & 15) | (((qh[l] >> (2 * c)) & 1) << 4);
                const int hi = (qs[32 * c + l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4);
                out[64 * c + l] = d0 * (float)lo - dm0;
                out[64 * c + 32 + l] = d1 * (float)hi - dm1;
            }
        }
    }
}

// Q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (i8, one per 16 values), d (f16).
// Per half h of 128 values and l < 32: values l, l+32, l+64, l+96 take the low/high nibbles of
// ql[64h + l] and ql[64h + 32 + l] and bit pairs 0, 2, 4, 6 of qh[32h + l]. x = (d * scale) * (q - 32).
static void g_dequantize_q6_k(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++, src += 210, out += 256) {
        const uint8_t *ql = src, *qh = src + 128;
        const int8_t *scales = (const int8_t *)(src + 192);
        const float d = g_half(src + 208);
        for (int h = 0; h < 2; h++) {
            const uint8_t *lq = ql + 64 * h, *hq = qh + 32 * h;
            const int8_t *sc = scales + 8 * h;
            float *y = out + 128 * h;
            for (int l = 0; l < 32; l++) {
                const int q1 = (lq[l] & 15) | (((hq[l] >> 0) & 3) << 4);
                const int q2 = (lq[l + 32] & 15) | (((hq[l] >> 2) & 3) << 4);
                const int q3 = (lq[l] >> 4) | (((hq[l] >> 4) & 3) << 4);
                const int q4 = (lq[l + 32] >> 4) | (((hq[l] >> 6) & 3) << 4);
                const int s = l / 16;
                y[l] = (d * (float)sc[s]) * (float)(q1 - 32);
                y[l + 32] = (d * (float)sc[s + 2]) * (float)(q2 - 32);
                y[l + 64] = (d * (float)sc[s + 4]) * (float)(q3 - 32);
                y[l + 96] = (d * (float)sc[s + 6]) * (float)(q4 - 32);
            }
        }
    }
}

static void g_dequantize_f32(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    memcpy(out, src, (size_t)blocks * 4);
}
static void g_dequantize_f16(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    g_f16_to_f32_row((const uint16_t *)src, out, blocks);
}
static void g_dequantize_bf16(const uint8_t *restrict src, float *restrict out, int64_t blocks) {
    g_bf16_to_f32_row((const uint16_t *)src, out, blocks);
}

/// Dequantizes `K` values (whole blocks) of weight type `type` from `src`.
static void g_dequantize_row(lm_wtype type, const void *src, float *out, int64_t K) {
    const uint8_t *s = (const uint8_t *)src;
    switch (type) {
    case LM_W_F32: g_dequantize_f32(s, out, K); break;
    case LM_W_F16: g_dequantize_f16(s, out, K); break;
    case LM_W_BF16: g_dequantize_bf16(s, out, K); break;
    case LM_W_Q8_0: g_dequantize_q8_0(s, out, K / 32); break;
    case LM_W_Q4_0: g_dequantize_q4_0(s, out, K / 32); break;
    case LM_W_Q4_1: g_dequantize_q4_1(s, out, K / 32); break;
    case LM_W_Q5_0: g_dequantize_q5_0(s, out, K / 32); break;
    case LM_W_Q5_1: g_dequantize_q5_1(s, out, K / 32); break;
    case LM_W_Q4_K: g_dequantize_q4_k(s, out, K / 256); break;
    case LM_W_Q5_K: g_dequantize_q5_k(s, out, K / 256); break;
    case LM_W_Q6_K: g_dequantize_q6_k(s, out, K / 256); break;
    default: break;
    }
}
