# The PTX ISA's mma.m16n8k16 (.bf16 in, f32 accumulation) as it acts on the 32 lanes' fragments,
# and bf16 rounding: the shared pieces of the lane-level kernel emulations in this folder.
import numpy as np

def bf(x): # round to bf16 (nearest even) and back
    x = np.asarray(x, np.float32).copy(); b = x.view(np.uint32).astype(np.uint64)
    b = (b + 0x7fff + ((b >> 16) & 1)) >> 16 << 16
    return b.astype(np.uint32).view(np.float32)

def mma(C, A, B):
    # A: per lane 4 regs of 2 values -> matrix 16x16; B: per lane 2 regs of 2 -> 16x8; C: per lane 4 -> 16x8
    Am = np.zeros((16, 16)); Bm = np.zeros((16, 8)); Cm = np.zeros((16, 8))
    for lane in range(32):
        g, c = lane >> 2, lane & 3
        a = A[lane]
        Am[g, 2*c:2*c+2] = a[0]; Am[g+8, 2*c:2*c+2] = a[1]; Am[g, 2*c+8:2*c+10] = a[2]; Am[g+8, 2*c+8:2*c+10] = a[3]
        b = B[lane]
        Bm[2*c:2*c+2, g] = b[0]; Bm[2*c+8:2*c+10, g] = b[1]
        Cm[g, 2*c:2*c+2] = C[lane][0:2]; Cm[g+8, 2*c:2*c+2] = C[lane][2:4]
    D = Cm + Am @ Bm
    for lane in range(32):
        g, c = lane >> 2, lane & 3
        C[lane][0:2] = D[g, 2*c:2*c+2]; C[lane][2:4] = D[g+8, 2*c:2*c+2]
