#!/usr/bin/env bash
# One device call: correctness of the CUDA backend, then its benchmarks. Run from the repo root
# on the device machine with .device-bin (the stripped, gzipped static binary) and .device-data
# (the tiny fixture models) carried. Logs go to $OUT.
set -uo pipefail
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PEREGRINE_HOME=/tmp/peregrine-home
out=${OUT:-/tmp/out}
mkdir -p "$out"
gunzip -kf .device-bin/peregrine.gz && chmod +x .device-bin/peregrine
bin=.device-bin/peregrine
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader

echo "== check-backend (first start compiles, second reads the cache)"
$bin check-backend --device cuda 2>&1 | tee "$out/check-backend.txt" | tail -45
$bin check-backend --device cuda --seed 2 2>&1 | tail -3

echo "== greedy tokens, CPU against CUDA"
for model in .device-data/*; do
    [ -f "$model/config.json" ] || continue
    ids="1,15,27,300,42,7,99"
    cpu=$($bin generate --model "$model" --prompt-ids $ids --max-tokens 32 --ignore-eos --device cpu 2>&1 | tail -1)
    gpu=$($bin generate --model "$model" --prompt-ids $ids --max-tokens 32 --ignore-eos --device cuda 2>&1 | tail -1)
    if [ "$cpu" = "$gpu" ]; then echo "$(basename $model): identical: $gpu"; else echo "$(basename $model): DIFFER"; echo "  cpu  $cpu"; echo "  cuda $gpu"; fi
done
