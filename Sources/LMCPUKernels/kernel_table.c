#include "kernels_internal.h"

int64_t lm_linear_scratch_floats(int64_t K) { return LM_PANEL_ROWS * K + 64; }

int64_t lm_wtype_block_values(lm_wtype type) {
    switch (type) {
    case LM_W_F32: case LM_W_F16: case LM_W_BF16: return 1;
    case LM_W_Q4_K: case LM_W_Q5_K: case LM_W_Q6_K: return 256;
    default: return 32;
    }
}

int64_t lm_wtype_block_bytes(lm_wtype type) {
    switch (type) {
    case LM_W_F32: return 4;
    case LM_W_F16: case LM_W_BF16: return 2;
    case LM_W_Q8_0: return 34;
    case LM_W_Q4_0: return 18;
    case LM_W_Q4_1: return 20;
    case LM_W_Q5_0: return 22;
    case LM_W_Q5_1: return 24;
    case LM_W_Q4_K: return 144;
    case LM_W_Q5_K: return 176;
    case LM_W_Q6_K: return 210;
    default: return 0;
    }
}

lm_kernels lm_kernels_for_isa(lm_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case LM_ISA_AVX512: return lm_kernels_avx512();
    case LM_ISA_AVX2: return lm_kernels_avx2();
#endif
    default: return lm_kernels_portable();
    }
}
