#include "kernels_internal.h"

int64_t lm_linear_scratch_floats(int64_t K) { return LM_PANEL_ROWS * K + 64; }

lm_kernels lm_kernels_for_isa(lm_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case LM_ISA_AVX512: return lm_kernels_avx512();
    case LM_ISA_AVX2: return lm_kernels_avx2();
#endif
    default: return lm_kernels_portable();
    }
}
