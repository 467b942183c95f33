# What cuBLAS (through PyTorch) reaches on the decode GEMM shapes of Llama-3-8B, as a reference
# for our own: per shape and token count, time per call and weight bytes streamed per second.
import sys, torch
torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = True
shapes = {"qkv": (6144, 4096), "o": (4096, 4096), "gate_up": (28672, 4096), "down": (4096, 14336)}
tokens = [int(t) for t in (sys.argv[1] if len(sys.argv) > 1 else "1,16,64,128").split(",")]
print(torch.cuda.get_device_name(), "torch", torch.__version__)
print(f"{'shape':>8} {'T':>4} {'us':>8} {'GB/s':>8} {'TFLOP/s':>8}")
for name, (n, k) in shapes.items():
    w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
    for t in tokens:
        x = torch.randn(t, k, device="cuda", dtype=torch.bfloat16)
        for _ in range(5): y = x @ w.t()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(20): y = x @ w.t()
        g.replay(); torch.cuda.synchronize()
        s, e = torch.cuda.Event(True), torch.cuda.Event(True)
        s.record(); [g.replay() for _ in range(10)]; e.record(); torch.cuda.synchronize()
        us = s.elapsed_time(e) * 1000 / 200
        print(f"{name:>8} {t:>4} {us:8.1f} {n*k*2/us/1e3:8.0f} {2*t*n*k/us/1e6:8.1f}")
