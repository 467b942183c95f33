// Scalar float conversions (IEEE binary16 and bfloat16), round-to-nearest-even when narrowing.
#include "LMCPUKernels.h"
#include <string.h>

float lm_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t lm_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float lm_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t u;
    if (exponent == 0x1f) {
        u = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
        u = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        u = sign;
    } else {  // subnormal: normalise
        int e = -1;
        do { e++; mantissa <<= 1; } while ((mantissa & 0x400) == 0);
        u = sign | ((uint32_t)(112 - e) << 23) | ((mantissa & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t lm_f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    const uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return sign | 0x7e00;            // NaN
    if (abs >= 0x477ff000u) return sign | 0x7c00;           // overflow to infinity
    if (abs < 0x38800000u) {                                 // subnormal or zero
        if (abs < 0x33000001u) return sign;
        const uint32_t e = abs >> 23;                        // 102...112
        const uint32_t m = (abs & 0x7fffff) | 0x800000;
        const uint32_t shift = 126 - e;                      // f16 subnormal unit is 2^-24
        uint32_t q = m >> shift;
        const uint32_t rest = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (q & 1))) q++;
        return sign | (uint16_t)q;
    }
    uint32_t v = abs - 0x38000000u;                          // rebias exponent 127 -> 15
    v += 0xfffu + ((v >> 13) & 1u);
    return sign | (uint16_t)(v >> 13);
}
