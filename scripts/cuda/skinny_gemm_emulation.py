# Lane-level emulation of Sources/LMCUDA/Kernels/skinny_gemm.cu: the kernel's loads (the swizzled
# x stages, the permuted-k weight and x fragments), its split-K and its stores transliterated to
# numpy, with mma.m16n8k16 as the PTX ISA defines its fragments, against x @ W.T in float64; and
# that the swizzled x stage serves every quarter-warp's fragment reads without bank conflicts.
# It checks the indexing before a GPU is at hand; the device's check-backend is the test.
# Run: python3 scripts/cuda/skinny_gemm_emulation.py (numpy; a few seconds). Errors of ~1e-6 are
# f32 summation order; an indexing mistake shows as errors near 1.
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mma_fragments import bf, mma

WARPS, CHUNK = 8, 128
rng = np.random.default_rng(0)

def unit(r, u):  # skinny_unit
    return r * 16 + (u ^ ((r & 1) << 2))

def pairs(v):  # a 16-byte unit of 8 bf16 as four 32-bit registers of two values
    return [v[0:2], v[2:4], v[4:6], v[6:8]]

def run(tokens, rows, columns, splits):
    tiles = {8: 1, 16: 2, 32: 4, 64: 8}[next(t for t in (8, 16, 32, 64) if tokens <= t)]
    x = bf(rng.standard_normal((tokens, columns))); W = bf(rng.standard_normal((rows, columns)))
    chunks = columns // CHUNK
    per_split = (chunks + splits - 1) // splits
    out = np.full((tokens, rows), np.nan); partial = np.full((splits, tokens, rows), np.nan)
    for bx in range((rows + WARPS * 16 - 1) // (WARPS * 16)):
        for by in range(splits):
            first, last = by * per_split, min(chunks, (by + 1) * per_split)
            for warp in range(WARPS):
                n0 = bx * WARPS * 16 + warp * 16
                acc = [[np.zeros(4) for _ in range(tiles)] for _ in range(32)]
                for chunk in range(first, last):
                    stage = [None] * (tiles * 8 * 16)
                    for r in range(tiles * 8):
                        for u in range(16):
                            stage[unit(r, u)] = x[min(r, tokens - 1), chunk * CHUNK + u * 8: chunk * CHUNK + u * 8 + 8]
                    for b in range(4):
                        lo, hi, xs = [], [], {}
                        for lane in range(32):
                            g, c = lane >> 2, lane & 3
                            u = chunk * (CHUNK // 8) + b * 4 + c
                            lo.append(pairs(W[min(n0 + g, rows - 1), u * 8: u * 8 + 8]))
                            hi.append(pairs(W[min(n0 + g + 8, rows - 1), u * 8: u * 8 + 8]))
                        for tile in range(tiles):
                            xs = [pairs(stage[unit(tile * 8 + (lane >> 2), b * 4 + (lane & 3))]) for lane in range(32)]
                            C = [acc[lane][tile] for lane in range(32)]
                            mma(C, [[lo[l][0], hi[l][0], lo[l][1], hi[l][1]] for l in range(32)], [[xs[l][0], xs[l][1]] for l in range(32)])
                            mma(C, [[lo[l][2], hi[l][2], lo[l][3], hi[l][3]] for l in range(32)], [[xs[l][2], xs[l][3]] for l in range(32)])
                for lane in range(32):
                    g, c = lane >> 2, lane & 3
                    for tile in range(tiles):
                        for i in range(4):
                            n, t = n0 + g + (i >> 1) * 8, tile * 8 + 2 * c + (i & 1)
                            if n >= rows or t >= tokens: continue
                            if splits == 1: out[t, n] = acc[lane][tile][i]
                            else: partial[by, t, n] = acc[lane][tile][i]
    if splits > 1: out = partial.sum(axis=0)   # skinny_gemm_reduce
    ref = x.astype(np.float64) @ W.astype(np.float64).T
    return np.abs(out - ref).max() / np.abs(ref).max()

# The x fragment reads: a 16-byte read per lane is served a quarter-warp (8 lanes) at a time,
# and those 8 lanes must cover 32 distinct 4-byte banks for one pass.
for tiles in (1, 2, 4, 8):
    for tile in range(tiles):
        for b in range(4):
            for quarter in range(4):
                banks = set()
                for lane in range(8 * quarter, 8 * quarter + 8):
                    address = unit(tile * 8 + (lane >> 2), b * 4 + (lane & 3)) * 16
                    banks.update((address // 4 + i) % 32 for i in range(4))
                assert len(banks) == 32, (tiles, tile, b, quarter)
print("x fragment reads: conflict-free")

for tokens, rows, columns, splits in [(2, 48, 256, 1), (13, 48, 256, 2), (16, 144, 384, 3), (33, 32, 128, 1), (64, 16, 512, 4)]:
    print(f"T {tokens} N {rows} K {columns} splits {splits}: rel err {run(tokens, rows, columns, splits):.2e}")
