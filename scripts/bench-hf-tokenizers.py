#!/usr/bin/env python3
"""Hugging Face `tokenizers` (PyPI) encode throughput on a text file, single thread: the peer of
`peregrine bench tokenizer`. Usage: scripts/bench-hf-tokenizers.py TOKENIZER.json TEXT [--repeats R]"""
import argparse
import os
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
from tokenizers import Tokenizer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tokenizer")
    parser.add_argument("text")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tokenizer = Tokenizer.from_file(args.tokenizer)
    text = open(args.text, encoding="utf-8").read()
    size = len(text.encode("utf-8"))
    best, count = 0.0, 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        count = len(tokenizer.encode(text, add_special_tokens=False).ids)
        best = max(best, size / (time.perf_counter() - start) / 1e6)
    print(f"tokenizers {__import__('tokenizers').__version__}: {size / 1e6:.2f} MB -> {count} tokens, {best:.2f} MB/s (best of {args.repeats})")


if __name__ == "__main__":
    main()
