// Run-time detection of the instruction sets the kernels may use: the CPU must report them and
// the OS must save their registers (XCR0), otherwise the portable kernels are used.
#include "LMCPUKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

lm_isa lm_cpu_detect_isa(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return LM_ISA_PORTABLE;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return LM_ISA_PORTABLE;
    const uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return LM_ISA_PORTABLE;  // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return LM_ISA_PORTABLE;
    const int avx2 = (b >> 5) & 1;
    const int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1;
    const int avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    if (avx512f && avx512dq && avx512bw && avx512vl && fma && f16c && (xcr0 & 0xe6) == 0xe6)
        return LM_ISA_AVX512;  // opmask, ZMM upper halves and ZMM16-31 state
    if (avx2 && fma && f16c) return LM_ISA_AVX2;
    return LM_ISA_PORTABLE;
}
#else
lm_isa lm_cpu_detect_isa(void) { return LM_ISA_PORTABLE; }
#endif
