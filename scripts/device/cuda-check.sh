#!/usr/bin/env bash
# One device call: correctness of the CUDA backend, then its benchmarks. Run from the repo root
# on the device machine with .device-bin (the stripped, gzipped static binary) and .device-data
# (the tiny fixture models) carried. Logs go to $OUT. Prepared here with:
#   swift build -c release --static-swift-stdlib --product peregrine
#   mkdir -p .device-bin && strip -o .device-bin/peregrine .build/release/peregrine && gzip -9f .device-bin/peregrine
#   mkdir -p .device-data && cp -r ../shared/fixtures/models/tiny-{llama,llama3-rope,mistral,mixtral,qwen2,qwen3} .device-data/
#   mkdir -p .device-data/llama3-tokenizer && cp ../shared/fixtures/tokenizers/llama-bpe/tokenizer{,_config}.json .device-data/llama3-tokenizer/
# Switches: CHECK=0 skips the checks; LINEAR=1 times the linears (`bench linear`); BENCH=1 the Llama-3-8B benchmarks (VARIANTS="default eager split1 cublas"
# compares settings; DECODE_BLOCKS="8 32" decode-attention grid sizes at 64 sequences); PROFILE=1 / PROFILE_ENGINE=1
# per-kernel times; AB="VAR=1 ..." batch-1 A/B against the defaults; SERVE=1 serves the 8B shapes on the GPU under `bench serve`; EXPERIMENT="VAR=1 ..."
# checks and benchmarks the backend under those settings.
set -uo pipefail
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PEREGRINE_HOME=/tmp/peregrine-home
out=${OUT:-/tmp/out}
mkdir -p "$out"
gunzip -kf .device-bin/peregrine.gz && chmod +x .device-bin/peregrine
bin=.device-bin/peregrine
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader

if [ "${CHECK:-1}" = "1" ]; then
echo "== check-backend (first start compiles, second reads the cache)"
$bin check-backend --device cuda 2>&1 | tee "$out/check-backend.txt" | tail -45
$bin check-backend --device cuda --seed 2 2>&1 | tail -3

echo "== greedy decoding, CPU (f32) against CUDA (bf16): teacher-forced logits, then free-running tokens"
python3 scripts/device/make-random-llama.py /tmp/smollm2-135m smollm2-135m 2>&1 | tail -1
models="$(ls -d .device-data/*/ | grep -v -e tokenizer) /tmp/smollm2-135m"
$bin check-backend --device cuda $(for m in $models; do echo --model $m; done) --steps 32 2>&1 | sed -n '/teacher-forced/,$p'
for model in $models; do
    ids="1,15,27,300,42,7,99"
    cpu=$($bin generate --model "$model" --prompt-ids $ids --max-tokens 32 --ignore-eos --device cpu 2>&1 | tail -1)
    gpu=$($bin generate --model "$model" --prompt-ids $ids --max-tokens 32 --ignore-eos --device cuda 2>&1 | tail -1)
    python3 - "$model" "$cpu" "$gpu" <<'PY'
import sys
name, a, b = sys.argv[1].rstrip("/").split("/")[-1], sys.argv[2].split(), sys.argv[3].split()
first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
print(f"{name}: free-running greedy, " + ("identical 32 tokens" if first is None and a == b else f"first divergence at generated token {first}"))
PY
done

fi

if [ "${BENCH:-0}" = "1" ]; then
    echo "== benchmarks: Llama-3-8B shapes, random bf16 weights made here with transformers"
    python3 scripts/device/make-random-llama.py /tmp/llama3-8b llama3-8b 2>&1 | tail -1
    # VARIANTS: default, eager (no CUDA graphs), split1 (one warp per GEMV row), cublas (no GEMV),
    # gemv8 (our GEMV up to 8 tokens, as before commit c13c8db),
    # unpacked (a GEMV launch per projection), nopdl (no programmatic dependent launch),
    # pageable (weights uploaded by the driver from pageable memory: compare the load column).
    for variant in ${VARIANTS:-default}; do
        case $variant in
            split1) settings=(env PEREGRINE_CUDA_GEMV_SPLIT=1) ;;
            cublas) settings=(env PEREGRINE_CUDA_GEMV=0) ;;
            gemv8) settings=(env PEREGRINE_CUDA_GEMV_MAX_TOKENS=8) ;;
            unpacked) settings=(env PEREGRINE_CUDA_PACKED_GEMV=0) ;;
            nopdl) settings=(env PEREGRINE_CUDA_PDL=0) ;;
            pageable) settings=(env PEREGRINE_CUDA_PINNED_UPLOAD=0) ;;
            *) settings=() ;;
        esac
        echo "-- $variant"
        if [ "$variant" = eager ]; then
            $bin bench model --model /tmp/llama3-8b --device cuda --prompt-tokens 512 --decode-tokens 128 --repeats 3 --enforce-eager 2>&1 | tee -a "$out/bench-model.txt" | tail -2
        else
            ${settings[@]+"${settings[@]}"} $bin bench model --model /tmp/llama3-8b --device cuda --prompt-tokens 512 --decode-tokens 128 --repeats 3 2>&1 | tee -a "$out/bench-model.txt" | tail -2
        fi
    done
    if [ "${PROFILE:-0}" = "1" ]; then
        PEREGRINE_CUDA_PROFILE=1 $bin bench model --model /tmp/llama3-8b --device cuda --prompt-tokens 512 --decode-tokens 32 --repeats 1 2>&1 \
            | tee "$out/profile.txt" | grep -A 22 "kernel"
    fi
    if [ "${PROFILE_ENGINE:-0}" = "1" ]; then
        PEREGRINE_CUDA_PROFILE=1 $bin bench engine --model /tmp/llama3-8b --device cuda --concurrency 64 --prompt-tokens 1024 --output-tokens 128 2>&1 \
            | tee "$out/profile-engine.txt" | grep -A 22 "kernel"
    fi
    $bin bench engine --model /tmp/llama3-8b --device cuda --concurrency ${CONCURRENCY:-16,64} --prompt-tokens 1024 --output-tokens 128 2>&1 | tee "$out/bench-engine.txt"
    # DECODE_BLOCKS="8 32": the 64-sequence run again with split-K decode attention aiming at
    # that many blocks per multiprocessor (default 8).
    for blocks in ${DECODE_BLOCKS:-}; do
        echo "-- decode attention at $blocks blocks per multiprocessor"
        PEREGRINE_CUDA_DECODE_BLOCKS_PER_SM=$blocks $bin bench engine --model /tmp/llama3-8b --device cuda --concurrency 64 --prompt-tokens 1024 --output-tokens 128 2>&1 | tail -1
    done
    echo "-- sampled on the GPU (temperature 0.8, top-p 0.95)"
    $bin bench engine --model /tmp/llama3-8b --device cuda --concurrency 1,64 --prompt-tokens 1024 --output-tokens 128 --temperature 0.8 --top-p 0.95 2>&1 \
        | tee "$out/bench-engine-sampled.txt" | tail -4
fi

# EXPERIMENT="PEREGRINE_CUDA_MMA_PREFILL=0" (any settings): the op checks, greedy agreement,
# batch-1/prefill and the 1- and 64-sequence engine runs under them. The fallbacks of the default
# kernels: EXPERIMENT="PEREGRINE_CUDA_MMA_DECODE=0 PEREGRINE_CUDA_VECTOR_NORM=0 PEREGRINE_CUDA_MMA_PREFILL=0".
if [ -n "${EXPERIMENT:-}" ]; then
    echo "== experiment: $EXPERIMENT"
    env $EXPERIMENT $bin check-backend --device cuda 2>&1 | grep -E "^(attention|ropeWriteKV|projectRope|rmsNorm|addRMSNorm|addLinear|normed)|passed"
    [ -d /tmp/smollm2-135m ] || python3 scripts/device/make-random-llama.py /tmp/smollm2-135m smollm2-135m 2>&1 | tail -1
    env $EXPERIMENT $bin check-backend --device cuda --model .device-data/tiny-llama3-rope --model /tmp/smollm2-135m --steps 32 2>&1 \
        | grep -E "teacher-forced|CUDA graphs"
    # Greedy tokens under the settings against the defaults (a fusion that keeps the rounding gives the same tokens).
    for model in .device-data/tiny-llama3-rope .device-data/tiny-qwen2 /tmp/smollm2-135m; do
        a=$($bin generate --model $model --prompt-ids 1,15,27,300,42,7,99 --max-tokens 48 --ignore-eos --device cuda 2>&1 | tail -1)
        b=$(env $EXPERIMENT $bin generate --model $model --prompt-ids 1,15,27,300,42,7,99 --max-tokens 48 --ignore-eos --device cuda 2>&1 | tail -1)
        [ "$a" = "$b" ] && echo "$model: 48 greedy tokens identical to the defaults'" || printf '%s: differ from the defaults\n  %s\n  %s\n' "$model" "$a" "$b"
    done
    if [ "${BENCH:-0}" = "1" ]; then
        env $EXPERIMENT $bin bench model --model /tmp/llama3-8b --device cuda --prompt-tokens 512 --decode-tokens 128 --repeats 3 2>&1 | tail -1
        env $EXPERIMENT $bin bench engine --model /tmp/llama3-8b --device cuda --concurrency 1,64 --prompt-tokens 1024 --output-tokens 128 2>&1 | tail -2
    fi
fi

# AB="PEREGRINE_CUDA_GEMV_ROPE=1" (settings; several separated by ";"): batch-1 decode and
# 512-token prefill, alternating the defaults and each setting for ROUNDS rounds (default 2), so
# drift between runs shows.
if [ -n "${AB:-}" ]; then
    echo "== A/B: defaults against $AB"
    [ -d /tmp/llama3-8b ] || python3 scripts/device/make-random-llama.py /tmp/llama3-8b llama3-8b 2>&1 | tail -1
    IFS=';' read -ra settings <<< "$AB"
    for round in $(seq 1 "${ROUNDS:-2}"); do
        echo "-- round $round, defaults"
        $bin bench model --model /tmp/llama3-8b --device cuda --prompt-tokens 512 --decode-tokens 128 --repeats 3 2>&1 | tee -a "$out/ab.txt" | tail -1
        for setting in "${settings[@]}"; do
            echo "-- round $round, $setting"
            env $setting $bin bench model --model /tmp/llama3-8b --device cuda --prompt-tokens 512 --decode-tokens 128 --repeats 3 2>&1 | tee -a "$out/ab.txt" | tail -1
        done
    done
fi

# LINEAR=1: `bench linear` at 1, 16, 32 and 64 tokens, by default and (with EXPERIMENT) under it,
# e.g. EXPERIMENT="PEREGRINE_CUDA_SKINNY_GEMM=1" LINEAR=1 CHECK=0.
if [ "${LINEAR:-0}" = "1" ]; then
    echo "== bench linear (Llama-3-8B shapes)"
    $bin bench linear --device cuda --tokens 1,16,32,64 2>&1 | tee "$out/bench-linear.txt" | tail -24
    if [ -n "${EXPERIMENT:-}" ]; then
        echo "-- under $EXPERIMENT"
        env $EXPERIMENT $bin bench linear --device cuda --tokens 1,16,32,64 2>&1 | tee "$out/bench-linear-experiment.txt" | tail -24
    fi
fi

if [ "${SERVE:-0}" = "1" ]; then
    echo "== peregrine serve --device cuda: Llama-3-8B shapes (random weights, the Llama 3 tokenizer), 64 concurrent streams"
    [ -d /tmp/llama3-8b ] || python3 scripts/device/make-random-llama.py /tmp/llama3-8b llama3-8b 2>&1 | tail -1
    cp .device-data/llama3-tokenizer/* /tmp/llama3-8b/
    $bin serve --model /tmp/llama3-8b --device cuda --port 8000 --served-model-name llama3-8b > "$out/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 600); do grep -q "serving" "$out/serve.log" && break; sleep 0.2; done
    cat "$out/serve.log"
    curl -s http://127.0.0.1:8000/v1/completions -d '{"prompt": "Hello", "max_tokens": 8, "ignore_eos": true}'; echo
    curl -s -N http://127.0.0.1:8000/v1/completions -d '{"prompt": "Hello", "max_tokens": 3, "stream": true, "ignore_eos": true}' | head -c 600; echo
    for c in 1 64; do
        $bin bench serve --base-url http://127.0.0.1:8000 --num-prompts $((c == 1 ? 8 : 256)) --max-concurrency $c --prompt-format ids --vocab-size 128000 \
            --random-input-len 1024 --random-output-len 128 --ignore-eos --no-progress --result-file "$out/serve-c$c.json" 2>&1 | tail -16
    done
    kill -TERM $server; wait $server; echo "serve exited $?"
fi
