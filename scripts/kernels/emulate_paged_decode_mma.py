# Emulates paged_decode_mma (in paged_decode.cu) for one (token, KV head, split) block lane by lane, with the PTX
# fragment layouts of mma.m16n8k16 and movmatrix, against plain attention: a check of the
# kernel's index mapping that needs no GPU (numpy only). Errors near 1e-3 are P in bf16.
import numpy as np
rng = np.random.default_rng(0)
def bf16(x): return (np.asarray(x, np.float32).view(np.uint32) + 0x7fff + ((np.asarray(x, np.float32).view(np.uint32) >> 16) & 1) >> 16 << 16).astype(np.uint32).view(np.float32)

def mma(d, A_lanes, B_lanes):
    # A_lanes[lane] = (a0,a1,a2,a3) each a pair; B_lanes[lane] = (b0,b1) pairs; d[lane] = 4 floats
    A = np.zeros((16, 16)); B = np.zeros((16, 8))
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        a0, a1, a2, a3 = A_lanes[lane]
        A[g, 2*t:2*t+2] = a0; A[g+8, 2*t:2*t+2] = a1; A[g, 2*t+8:2*t+10] = a2; A[g+8, 2*t+8:2*t+10] = a3
        b0, b1 = B_lanes[lane]
        B[2*t:2*t+2, g] = b0; B[2*t+8:2*t+10, g] = b1
    C = A @ B
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        d[lane][0] += C[g, 2*t]; d[lane][1] += C[g, 2*t+1]; d[lane][2] += C[g+8, 2*t]; d[lane][3] += C[g+8, 2*t+1]

def movmatrix(x):  # x[lane] = pair: M[lane>>2][2*(lane&3) + {0,1}]
    M = np.zeros((8, 8))
    for lane in range(32): M[lane >> 2, 2*(lane & 3):2*(lane & 3)+2] = x[lane]
    T = M.T
    return [T[lane >> 2, 2*(lane & 3):2*(lane & 3)+2].copy() for lane in range(32)]

def run(G, PAIRS, keys_total, begin, end, warps=4):
    D = 32 * PAIRS
    Q = bf16(rng.normal(size=(G, D))); K = bf16(rng.normal(size=(keys_total, D))); V = bf16(rng.normal(size=(keys_total, D)))
    scale = 1 / np.sqrt(D)
    # reference over keys [begin, end)
    S = (Q @ K[begin:end].T) * scale
    P = np.exp(S - S.max(1, keepdims=True)); ref = (P @ V[begin:end]) / P.sum(1, keepdims=True)
    shared = []
    for warp in range(warps):
        qa = [[None, None] for _ in range(2 * PAIRS)]
        per_lane_qa = []
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            row = Q[g] if g < G else np.zeros(D)
            lq = {}
            for p in range(PAIRS):
                e = row[32*p + 8*t: 32*p + 8*t + 8]
                lq[(2*p, 0)] = e[0:2]; lq[(2*p, 1)] = e[2:4]; lq[(2*p+1, 0)] = e[4:6]; lq[(2*p+1, 1)] = e[6:8]
            per_lane_qa.append(lq)
        o = [[np.zeros(4) for _ in range(32)] for _ in range(4 * PAIRS)]
        m = [-np.inf] * 32; l = [0.0] * 32
        base = begin + warp * 16
        while base < end:
            kr = [[None] * 2 for _ in range(32)]; vr = [[None] * 2 for _ in range(32)]
            for lane in range(32):
                g, t = lane >> 2, lane & 3
                for half in range(2):
                    key = min(base + 8*half + g, end - 1)
                    kr[lane][half] = [K[key, 32*p + 8*t: 32*p + 8*t + 8] for p in range(PAIRS)]
                    vr[lane][half] = [V[key, 32*p + 8*t: 32*p + 8*t + 8] for p in range(PAIRS)]
            s = [[np.zeros(4) for _ in range(32)] for _ in range(2)]
            for half in range(2):
                for p in range(PAIRS):
                    for h in range(2):
                        A = [(per_lane_qa[l_][(2*p+h, 0)], np.zeros(2), per_lane_qa[l_][(2*p+h, 1)], np.zeros(2)) for l_ in range(32)]
                        Bl = [(kr[l_][half][p][4*h:4*h+2], kr[l_][half][p][4*h+2:4*h+4]) for l_ in range(32)]
                        mma(s[half], A, Bl)
            pvals = {}
            newm = [0.0] * 32; corr = [0.0] * 32; sums = [0.0] * 32
            tm = []
            for lane in range(32):
                g, t = lane >> 2, lane & 3
                x = -np.inf
                for half in range(2):
                    for e in range(2):
                        s[half][lane][e] = s[half][lane][e] * scale if base + 8*half + 2*t + e < end else -np.inf
                        x = max(x, s[half][lane][e])
                tm.append(x)
            tm = [max(tm[(lane & ~3) + k] for k in range(4)) for lane in range(32)]
            for lane in range(32):
                mn = max(m[lane], tm[lane]); corr[lane] = np.exp(m[lane] - mn) if m[lane] != -np.inf else 0.0
                # P in bf16, and the normalizer sums the same rounded weights (as the kernel does).
                pv = [[float(bf16(np.float32(np.exp(s[half][lane][e] - mn)))) for e in range(2)] for half in range(2)]
                pvals[lane] = pv; sums[lane] = sum(pv[0]) + sum(pv[1]); newm[lane] = mn
            sums = [sum(sums[(lane & ~3) + k] for k in range(4)) for lane in range(32)]
            for lane in range(32):
                l[lane] = l[lane] * corr[lane] + sums[lane]; m[lane] = newm[lane]
            PA = [(bf16(np.array(pvals[l_][0])), np.zeros(2), bf16(np.array(pvals[l_][1])), np.zeros(2)) for l_ in range(32)]
            for q in range(PAIRS):
                for i in range(4):
                    acc = o[4*q + i]
                    for lane in range(32): acc[lane][0] *= corr[lane]; acc[lane][1] *= corr[lane]
                    b0 = movmatrix([vr[l_][0][q][2*i:2*i+2] for l_ in range(32)])
                    b1 = movmatrix([vr[l_][1][q][2*i:2*i+2] for l_ in range(32)])
                    mma(acc, PA, [(b0[l_], b1[l_]) for l_ in range(32)])
            base += 16 * warps
        sm = [None] * G; sl = [None] * G; sacc = np.zeros((G, D))
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            if g < G:
                if t == 0: sm[g] = m[lane]; sl[g] = l[lane]
                for q in range(PAIRS):
                    for i in range(4):
                        sacc[g, 32*q + 8*t + 2*i] = o[4*q+i][lane][0]; sacc[g, 32*q + 8*t + 2*i + 1] = o[4*q+i][lane][1]
        shared.append((sm, sl, sacc))
    out = np.zeros((G, D))
    for h in range(G):
        tm_ = max(sh[0][h] for sh in shared)
        tl = sum(sh[1][h] * np.exp(sh[0][h] - tm_) for sh in shared if sh[0][h] != -np.inf)
        val = sum(sh[2][h] * np.exp(sh[0][h] - tm_) for sh in shared if sh[0][h] != -np.inf)
        out[h] = val / tl
    err = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    print(f"G {G} D {D} keys [{begin},{end}): rel err {err:.2e}")
    return err

errs = [run(4, 4, 300, 0, 300), run(4, 4, 300, 37, 100), run(8, 4, 64, 10, 13), run(1, 4, 40, 0, 40), run(3, 2, 200, 5, 181),
        run(4, 2, 17, 0, 17), run(2, 4, 90, 3, 90), run(8, 2, 33, 0, 33)]
print("max", max(errs))
# A wrong fragment mapping gives errors of order 1; bf16 weights give about 1e-3.
if max(errs) > 5e-3:
    raise SystemExit("emulation disagrees with plain attention")
