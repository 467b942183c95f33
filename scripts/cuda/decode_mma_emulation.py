# Lane-level emulation of Sources/LMCUDA/Kernels/paged_decode_mma.cu: the kernel's fragment and
# ldmatrix index math transliterated to numpy (mma.m16n8k16 and ldmatrix .x4 / .x4.trans as the
# PTX ISA defines them), one block (4 warps over a split's keys, then the warps' merge) against a
# float64 attention reference for every head of the group. The device's check-backend is the
# test; this checks the indexing before a GPU is at hand.
# Run: python3 scripts/cuda/decode_mma_emulation.py (numpy; seconds). Relative errors of ~1e-3
# are P's rounding to bf16; an indexing mistake shows as errors near 1.
import numpy as np
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mma_fragments import bf, mma
rng = np.random.default_rng(0)
WARPS, KEYS = 4, 16

def pair(x):   # two bf16 values as one register (kept as a pair of floats)
    return np.array(x, np.float64)

def ldmatrix(smem, addresses, trans):
    # addresses[lane] = (row, column) of the row lane L gives: row L % 8 of matrix L / 8.
    # Plain: lane 4g + c receives row g, columns 2c, 2c+1 of each matrix; trans: column g, rows 2c, 2c+1.
    regs = [[None] * 4 for _ in range(32)]
    for j in range(4):
        rows = [smem[addresses[8 * j + r][0], addresses[8 * j + r][1]:addresses[8 * j + r][1] + 8] for r in range(8)]
        mat = np.stack(rows)   # 8 x 8
        for lane in range(32):
            g, c = lane >> 2, lane & 3
            regs[lane][j] = pair(mat[g, 2 * c:2 * c + 2] if not trans else mat[2 * c:2 * c + 2, g])
    return regs

def block(Q, K, V, begin, end, group, D, scale):
    STRIDE = D + 8
    states = []
    tiles = (end - begin + KEYS - 1) // KEYS
    for warp in range(WARPS):
        mine = (tiles - warp + WARPS - 1) // WARPS if tiles > warp else 0
        qf = []
        for lane in range(32):
            g, c = lane >> 2, lane & 3
            h = min(g, group - 1)
            qf.append([[pair(Q[h, kc * 16 + 2 * c:kc * 16 + 2 * c + 2]) if g < group else pair([0, 0]),
                        pair(Q[h, kc * 16 + 2 * c + 8:kc * 16 + 2 * c + 10]) if g < group else pair([0, 0])] for kc in range(D // 16)])
        o = np.zeros((32, D // 8, 4)); m = np.full(32, -np.inf); l = np.zeros(32)
        for k in range(mine):
            key0 = begin + (warp + k * WARPS) * KEYS
            stage = np.zeros((2 * KEYS, STRIDE))
            for u in range(KEYS):
                key = min(key0 + u, end - 1)
                stage[u, :D] = K[key]; stage[KEYS + u, :D] = V[key]
            s = np.zeros((32, 2, 4))
            for kc in range(D // 16):
                addr = [((lane >> 4) * 8 + (lane & 7), kc * 16 + ((lane >> 3) & 1) * 8) for lane in range(32)]
                b = ldmatrix(stage, addr, False)
                A = [[qf[lane][kc][0], pair([0, 0]), qf[lane][kc][1], pair([0, 0])] for lane in range(32)]
                for nt in range(2):
                    C = [s[lane, nt] for lane in range(32)]
                    mma(C, A, [[b[lane][2 * nt], b[lane][2 * nt + 1]] for lane in range(32)])
            for lane in range(32):
                c = lane & 3
                for nt in range(2):
                    for e in range(2):
                        s[lane, nt, e] = s[lane, nt, e] * scale if key0 + nt * 8 + 2 * c + e < end else -np.inf
            tile_max = np.array([max(s[lane, nt, e] for nt in range(2) for e in range(2)) for lane in range(32)])
            quad_max = np.array([tile_max[lane & ~3:(lane & ~3) + 4].max() for lane in range(32)])
            m_new = np.maximum(m, quad_max)
            correction = np.exp(m - m_new)
            for lane in range(32):
                for nt in range(2):
                    for e in range(2): s[lane, nt, e] = np.exp(s[lane, nt, e] - m_new[lane])
            part = np.array([s[lane, :, :2].sum() for lane in range(32)])
            quad_sum = np.array([part[lane & ~3:(lane & ~3) + 4].sum() for lane in range(32)])
            l = l * correction + quad_sum; m = m_new
            P = [[pair(bf(s[lane, 0, :2])), pair([0, 0]), pair(bf(s[lane, 1, :2])), pair([0, 0])] for lane in range(32)]
            for dt in range(0, D // 8, 2):
                addr = [(KEYS + ((lane >> 3) & 1) * 8 + (lane & 7), dt * 8 + (lane >> 4) * 8) for lane in range(32)]
                b = ldmatrix(stage, addr, True)
                for lane in range(32):
                    o[lane, dt, :2] *= correction[lane]; o[lane, dt + 1, :2] *= correction[lane]
                for j in range(2):
                    C = [o[lane, dt + j] for lane in range(32)]
                    mma(C, P, [[b[lane][2 * j], b[lane][2 * j + 1]] for lane in range(32)])
        shared_m = np.full(8, -np.inf); shared_l = np.zeros(8); shared_acc = np.zeros((8, D))
        for lane in range(32):
            g, c = lane >> 2, lane & 3
            if g < group:
                if c == 0: shared_m[g] = m[lane]; shared_l[g] = l[lane]
                for dt in range(D // 8): shared_acc[g, dt * 8 + 2 * c:dt * 8 + 2 * c + 2] = o[lane, dt, :2]
        states.append((shared_m, shared_l, shared_acc))
    # write_split_partials: the merged split, normalized here to compare with the reference.
    out = np.zeros((group, D))
    for h in range(group):
        total_m = max(st[0][h] for st in states)
        total_l = sum(st[1][h] * np.exp(st[0][h] - total_m) for st in states if st[0][h] != -np.inf)
        out[h] = sum(st[2][h] * np.exp(st[0][h] - total_m) for st in states if st[0][h] != -np.inf) / total_l
    return out

def check(D, group, keys, begin, end):
    K = bf(rng.standard_normal((keys, D))); V = bf(rng.standard_normal((keys, D))); Q = bf(rng.standard_normal((group, D)))
    scale = D ** -0.5
    got = block(Q, K, V, begin, end, group, D, scale)
    scores = Q.astype(np.float64) @ K[begin:end].T.astype(np.float64) * scale
    w = np.exp(scores - scores.max(axis=1, keepdims=True)); w /= w.sum(axis=1, keepdims=True)
    want = w @ V[begin:end].astype(np.float64)
    error = np.abs(got - want).max() / np.abs(want).max()
    print(f"D {D:3} G {group} keys {begin}..<{end}: rel. error {error:.2e}")
    assert error < 1e-2, "indexing mistake"

for D, group, keys, begin, end in [(128, 4, 200, 0, 200), (128, 8, 130, 3, 130), (64, 2, 97, 10, 97), (128, 1, 40, 0, 17), (64, 7, 300, 64, 300), (128, 4, 5, 0, 5)]:
    check(D, group, keys, begin, end)
print("ok")
