# Lane-level emulation of Sources/LMCUDA/Kernels/paged_prefill_mma.cu: the kernel's fragment index
# math transliterated to numpy, with mma.m16n8k16 defined by the PTX ISA's bf16 fragment layouts,
# against a float64 attention reference (causal, sliding window, partial tiles, cached prefixes).
# It checks the kernel's indexing before a GPU is at hand; the device's check-backend is the test.
# Run: python3 scripts/cuda/prefill_mma_emulation.py (numpy; about a minute). Relative errors of
# ~1e-3 are P's rounding to bf16; an indexing mistake shows as errors near 1.
import numpy as np
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
rng = np.random.default_rng(0)
from mma_fragments import bf, mma

def run(D, count, first_position, window, scale=0.125):
    n_keys = first_position + count
    K = bf(rng.standard_normal((n_keys, D))); V = bf(rng.standard_normal((n_keys, D))); Q = bf(rng.standard_normal((32, D)))
    out = np.zeros((32, D))
    last_position = first_position + count - 1
    begin = max(0, first_position - window + 1) if window > 0 else 0
    key_tiles = (last_position - begin) // 32 + 1
    for warp in range(2):
        qf = [[[np.zeros(2)]*4 for _ in range(D//16)] for _ in range(32)]  # per lane, per 16-dim chunk: 4 regs
        for lane in range(32):
            g, c = lane >> 2, lane & 3
            rows = [warp*16+g, warp*16+g+8]
            for half in range(2):
                valid = rows[half] < count
                for kc in range(D//16):
                    qf[lane][kc][half] = Q[rows[half], kc*16+2*c:kc*16+2*c+2] if valid else np.zeros(2)
                    qf[lane][kc][2+half] = Q[rows[half], kc*16+2*c+8:kc*16+2*c+10] if valid else np.zeros(2)
        o = np.zeros((32, D//8, 4)); m = np.full((32, 2), -np.inf); l = np.zeros((32, 2))
        for i in range(key_tiles):
            key0 = begin + i*32
            ks = np.stack([K[min(key0+k, last_position)] for k in range(32)]); vs = np.stack([V[min(key0+k, last_position)] for k in range(32)])
            s = np.zeros((32, 4, 4))
            for kc in range(D//16):
                for nt in range(4):
                    A = [qf[lane][kc] for lane in range(32)]
                    B = [[ks[nt*8+(lane>>2), kc*16+2*(lane&3):kc*16+2*(lane&3)+2], ks[nt*8+(lane>>2), kc*16+2*(lane&3)+8:kc*16+2*(lane&3)+10]] for lane in range(32)]
                    C = [s[lane, nt] for lane in range(32)]
                    mma(C, A, B)
            for half in range(2):
                tmax = np.full(32, -np.inf)
                for lane in range(32):
                    g, c = lane >> 2, lane & 3
                    row = warp*16+g+8*half; position = first_position+row
                    for nt in range(4):
                        for e in range(2):
                            j = key0+nt*8+2*c+e
                            visible = row < count and j <= position and (window <= 0 or j > position - window)
                            sc = s[lane, nt, 2*half+e]*scale if visible else -np.inf
                            s[lane, nt, 2*half+e] = sc; tmax[lane] = max(tmax[lane], sc)
                quad = tmax.reshape(8, 4).max(axis=1).repeat(4)
                sums = np.zeros(32)
                for lane in range(32):
                    m_new = max(m[lane, half], quad[lane])
                    corr = 1.0 if m_new == -np.inf else np.exp(m[lane, half]-m_new)
                    for nt in range(4):
                        for e in range(2):
                            p = 0.0 if m_new == -np.inf else np.exp(s[lane, nt, 2*half+e]-m_new)
                            s[lane, nt, 2*half+e] = p; sums[lane] += p
                    o[lane, :, 2*half:2*half+2] *= corr
                    m[lane, half] = m_new
                    l[lane, half] = l[lane, half]*corr
                qs = sums.reshape(8, 4).sum(axis=1).repeat(4)
                l[:, half] += qs
            for kc in range(2):
                P = [[bf(s[lane, 2*kc, 0:2]), bf(s[lane, 2*kc, 2:4]), bf(s[lane, 2*kc+1, 0:2]), bf(s[lane, 2*kc+1, 2:4])] for lane in range(32)]
                for dt in range(D//8):
                    B = []
                    for lane in range(32):
                        g, c = lane >> 2, lane & 3
                        r = kc*16+2*c
                        B.append([np.array([vs[r, dt*8+g], vs[r+1, dt*8+g]]), np.array([vs[r+8, dt*8+g], vs[r+9, dt*8+g]])])
                    C = [o[lane, dt] for lane in range(32)]
                    mma(C, P, B)
        for lane in range(32):
            g, c = lane >> 2, lane & 3
            for half in range(2):
                row = warp*16+g+8*half
                if row >= count: continue
                for dt in range(D//8):
                    out[row, dt*8+2*c:dt*8+2*c+2] = o[lane, dt, 2*half:2*half+2]/l[lane, half]
    # reference
    ref = np.zeros((32, D))
    for r in range(count):
        position = first_position + r
        js = [j for j in range(0, position+1) if window <= 0 or j > position - window]
        sc = np.array([Q[r] @ K[j] for j in js])*scale
        p = np.exp(sc - sc.max()); p /= p.sum()
        ref[r] = p @ V[js]
    err = np.abs(out[:count]-ref[:count]).max() / np.abs(ref[:count]).max()
    return err

for D, count, first, window in [(64, 32, 0, 0), (64, 7, 13, 0), (64, 20, 40, 24), (128, 32, 70, 0), (64, 1, 5, 0), (64, 17, 0, 5)]:
    print(D, count, first, window, "rel err %.2e" % run(D, count, first, window))
