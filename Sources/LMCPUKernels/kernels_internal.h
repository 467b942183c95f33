// Kernel tables of each instruction-set level (internal to the C target).
#ifndef LM_KERNELS_INTERNAL_H
#define LM_KERNELS_INTERNAL_H
#include "LMCPUKernels.h"

lm_kernels lm_kernels_portable(void);
#if defined(__x86_64__)
lm_kernels lm_kernels_avx2(void);
lm_kernels lm_kernels_avx512(void);
#endif

// Rows of a weight panel widened at once by the tiled linear kernels.
#define LM_PANEL_ROWS 4
// Tokens per block of the widened-panel path (bounds the x slice kept hot in cache).
#define LM_TOKEN_BLOCK 64
#endif
