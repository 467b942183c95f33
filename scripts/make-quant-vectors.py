#!/usr/bin/env python3
"""Writes Tests/LMCPUTests/Vectors/quant-vectors.json: random blocks of every GGUF quant type
Peregrine reads, with their values as the reference implementation (the PyPI package `gguf`,
module gguf.quants) dequantizes them. Run: pip install gguf==0.19.0 numpy && python3 scripts/make-quant-vectors.py
"""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16"]
# Byte offsets of the f16 scales in each block: random bytes there could be NaN or huge.
SCALES = {"Q8_0": [0], "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2],
          "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


def main():
    rng = np.random.default_rng(20261126)
    out = {"generator": "scripts/make-quant-vectors.py with gguf==0.19.0, numpy " + np.__version__, "types": {}}
    for name in TYPES:
        qtype = T[name]
        block_values, block_bytes = quants.GGML_QUANT_SIZES[qtype]
        blocks = 8 if block_values == 256 else 24
        if name in ("F16", "BF16"):
            values = rng.normal(0, 2, size=blocks * 32).astype(np.float32)
            raw = np.ascontiguousarray(quants.quantize(values, qtype)).view(np.uint8)
        else:
            raw = rng.integers(0, 256, size=(blocks, block_bytes), dtype=np.uint8)
            for offset in SCALES[name]:
                scale = (rng.normal(0, 0.05, size=blocks)).astype(np.float16).view(np.uint8).reshape(blocks, 2)
                raw[:, offset:offset + 2] = scale
            if name in ("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"):
                # Half the blocks quantized from real values, as a converter would write them.
                values = rng.normal(0, 1, size=(blocks // 2) * block_values).astype(np.float32)
                raw[: blocks // 2] = quants.quantize(values, qtype).reshape(blocks // 2, block_bytes)
            raw = raw.reshape(-1)
        raw = np.ascontiguousarray(raw).view(np.uint8).reshape(-1)
        dequantized = quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
        out["types"][name] = {
            "block_values": block_values,
            "block_bytes": block_bytes,
            "bytes": bytes(raw).hex(),
            # float32 bit patterns: exact, and NaN-safe
            "values": [int(v) for v in dequantized.view(np.uint32)],
        }
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "LMCPUTests", "Vectors", "quant-vectors.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
