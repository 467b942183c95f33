// Portable kernels: the generic C bodies at the compiler's baseline target.
#include "kernels_internal.h"
#include "kernels_generic.h"

lm_kernels lm_kernels_portable(void) { return g_table(LM_ISA_PORTABLE); }
