#!/usr/bin/env python3
"""Writes Tests/LMModelsTests/Fixtures/tiny-gemma3/: a tiny random Gemma3ForCausalLM (bf16
safetensors, config.json as transformers writes it) and golden.json in the format of
../shared/fixtures/models/*/golden.json (float32 compute from the bf16 weights, eager attention).
It exercises what Gemma 3 adds to the Llama family: scaled embeddings, (1 + w) RMSNorms
on both sides of attention and MLP, q/k norms, GELU-tanh, sliding and full layers with their own
RoPE bases, and query_pre_attn_scalar != head_dim.
Run: pip install torch transformers==5.24.0 && python3 scripts/make-gemma3-fixture.py
"""
import json
import os

import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LMModelsTests", "Fixtures", "tiny-gemma3")


def main():
    torch.manual_seed(3)
    config = Gemma3TextConfig(
        vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, query_pre_attn_scalar=24, sliding_window=8,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
        max_position_embeddings=128, initializer_range=0.2, bos_token_id=0, eos_token_id=1, pad_token_id=2,
        rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})
    model = Gemma3ForCausalLM(config).to(torch.bfloat16)
    generator = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):  # transformers initialises (1 + w) norms to w = 0
                parameter.copy_((0.3 * torch.randn(parameter.shape, generator=generator)).to(parameter.dtype))
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    for extra in ("generation_config.json",):
        path = os.path.join(OUT, extra)
        if os.path.exists(path):
            os.remove(path)

    reference = Gemma3ForCausalLM.from_pretrained(OUT, dtype=torch.float32, attn_implementation="eager").eval()
    cases = {}
    for length in (1, 7, 40):
        ids = [0] + [int(x) for x in torch.randint(3, 256, (length - 1,), generator=generator)]
        with torch.no_grad():
            logits = reference(torch.tensor([ids])).logits[0]
            greedy = reference.generate(torch.tensor([ids]), max_new_tokens=24, do_sample=False,
                                        min_new_tokens=24, eos_token_id=None, pad_token_id=2)[0, length:].tolist()
        cases[f"len{length}"] = {
            "input_ids": ids,
            "last_logits": [float(v) for v in logits[-1]],
            "argmax": [int(v) for v in logits.argmax(-1)],
            "greedy": greedy,
        }
    golden = {"model": "tiny-gemma3", "architecture": "Gemma3ForCausalLM", "weights_dtype": "bfloat16",
              "compute_dtype": "float32", "attn_implementation": "eager", "cases": cases,
              "batch": {"cases": {}},
              "generator": {"torch": torch.__version__, "transformers": __import__("transformers").__version__,
                            "script": "scripts/make-gemma3-fixture.py"}}
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f)
        f.write("\n")


if __name__ == "__main__":
    main()
