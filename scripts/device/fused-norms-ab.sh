#!/usr/bin/env bash
# Run from the repo root on the device with .device-bin and .device-data carried (see cuda-check.sh).
# The short form of cuda-check.sh's EXPERIMENT + AB for the fused norm schedule, ordered so the
# most needed answers come first when device time is short.
set -uo pipefail
export LD_LIBRARY_PATH=/usr/local/cuda/lib64 PEREGRINE_HOME=/tmp/peregrine-home
out=${OUT:-/tmp/out}; mkdir -p $out
gunzip -kf .device-bin/peregrine.gz && chmod +x .device-bin/peregrine
bin=.device-bin/peregrine
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader
echo "== check-backend under PEREGRINE_CUDA_FUSED_NORMS=1"
PEREGRINE_CUDA_FUSED_NORMS=1 $bin check-backend --device cuda 2>&1 | tee $out/check.txt | grep -E "^(addLinear|normed|projectRope)|FAIL|fail|passed"
python3 scripts/device/make-random-llama.py /tmp/llama3-8b llama3-8b 2>&1 | tail -1
echo "== A/B batch 1"
for r in 1 2; do
  settings=("PEREGRINE_NONE=1" "PEREGRINE_CUDA_FUSED_NORMS=1")
  [ $r = 1 ] && settings+=("PEREGRINE_CUDA_FUSED_NORMS=1 PEREGRINE_CUDA_GEMM_ACCUMULATE=0")
  for s in "${settings[@]}"; do
    echo "-- round $r: $s"
    env $s $bin bench model --model /tmp/llama3-8b --device cuda --prompt-tokens 512 --decode-tokens 128 --repeats 3 2>&1 | tee -a $out/ab.txt | tail -1
  done
done
echo "== greedy tokens under the schedule against the defaults"
python3 scripts/device/make-random-llama.py /tmp/smollm2-135m smollm2-135m 2>&1 | tail -1
for model in .device-data/tiny-llama3-rope .device-data/tiny-qwen2 /tmp/smollm2-135m; do
  a=$($bin generate --model $model --prompt-ids 1,15,27,300,42,7,99 --max-tokens 48 --ignore-eos --device cuda 2>&1 | tail -1)
  b=$(PEREGRINE_CUDA_FUSED_NORMS=1 $bin generate --model $model --prompt-ids 1,15,27,300,42,7,99 --max-tokens 48 --ignore-eos --device cuda 2>&1 | tail -1)
  [ "$a" = "$b" ] && echo "$model: identical 48 tokens" || printf '%s: differ\n  %s\n  %s\n' "$model" "$a" "$b"
done
PEREGRINE_CUDA_FUSED_NORMS=1 $bin check-backend --device cuda --model .device-data/tiny-llama3-rope --model /tmp/smollm2-135m --steps 32 2>&1 | grep -E "teacher-forced|CUDA graphs"
