"""Random-weight Llama checkpoints with real shapes, made on the device machine (nothing can be
downloaded there): LlamaForCausalLM(config) with transformers' own initialisation, saved as bf16
safetensors with config.json, as `save_pretrained` writes them.

usage: make-random-llama.py OUT_DIR {llama3-8b,smollm2-135m} [--layers N]
"""
import argparse

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    # Llama-3-8B: 32 layers, hidden 4096, 32 heads, 8 KV heads, FFN 14336, vocab 128256, theta 500000.
    "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, rope_theta=500000.0, max_position_embeddings=8192,
                      rms_norm_eps=1e-5, tie_word_embeddings=False),
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152, rope_theta=100000.0, max_position_embeddings=8192,
                         rms_norm_eps=1e-5, tie_word_embeddings=True),
}

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("shape", choices=sorted(SHAPES))
parser.add_argument("--layers", type=int)
args = parser.parse_args()
shape = dict(SHAPES[args.shape])
if args.layers:
    shape["num_hidden_layers"] = args.layers
config = LlamaConfig(**shape, bos_token_id=1, eos_token_id=2, torch_dtype="bfloat16")
torch.manual_seed(0)
with torch.device("cuda"):
    model = LlamaForCausalLM(config).to(torch.bfloat16)
model.save_pretrained(args.out, safe_serialization=True, max_shard_size="5GB")
print(f"{args.shape}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters -> {args.out}")
