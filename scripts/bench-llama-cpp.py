#!/usr/bin/env python3
"""llama.cpp's CPU backend on a GGUF file, measured like llama-bench's pp512 and tg128, through
llama-cpp-python (the peer in BENCHMARKS.md). Install it with AVX2/AVX-512 and AMX off:
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
    pip install llama-cpp-python==0.3.36
Usage: scripts/bench-llama-cpp.py MODEL.gguf [--threads N] [--repeats R]
"""
import argparse
import time

from llama_cpp import Llama


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--decode-tokens", type=int, default=128)
    args = parser.parse_args()
    llm = Llama(model_path=args.model, n_ctx=args.prompt_tokens + args.decode_tokens + 8, n_batch=args.prompt_tokens,
                n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    vocab = llm.n_vocab()
    prompt = [(i * 7919) % vocab for i in range(args.prompt_tokens)]
    best_pp, best_tg = 0.0, 0.0
    for _ in range(args.repeats):
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt)
        best_pp = max(best_pp, args.prompt_tokens / (time.perf_counter() - start))
        # tg: one token per decode call after a one-token prompt, as llama-bench's tg test does.
        llm.reset()
        llm.eval([prompt[0]])
        start = time.perf_counter()
        for i in range(args.decode_tokens):
            llm.eval([prompt[(i + 1) % len(prompt)]])
        best_tg = max(best_tg, args.decode_tokens / (time.perf_counter() - start))
    print(f"llama.cpp (llama-cpp-python) threads={args.threads}: pp{args.prompt_tokens} {best_pp:.1f} tok/s, tg{args.decode_tokens} {best_tg:.1f} tok/s")


if __name__ == "__main__":
    main()
