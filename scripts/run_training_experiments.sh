#!/usr/bin/env bash
# The training experiments of docs/training.md: every method there, 3 seeds, simulated workers
# (W = 4, batch 32 each, 300 steps = 0.64 epoch, the sample's CNN). About 15 s per run on one
# idle core of the reference machine, 48 runs. Writes one CSV (scripts/train.py's columns).
#   PYTHONPATH=build/python scripts/run_training_experiments.sh docs/training_runs.csv
set -euo pipefail
out=${1:?usage: run_training_experiments.sh OUT.csv}
here=$(dirname "$0")
train() { /usr/bin/python3 "$here/train.py" --seeds 0,1,2 --steps 300 --eval-every 100 "$@"; }
{
  train -q fp32 -q dqsg:s=3 -q ndqsg -q tnq:bits=2 -q qsgd:s=187 -q tnq:bits=3 -q qsgd:s=464 \
        -q gradiveq
  # Sign methods apply ±1 per coordinate (a vote), not a gradient's magnitude: lr 0.001, the
  # best of {0.003, 0.001, 0.0003} for both on seed 0 (docs/training.md).
  train -q sign -q s3gdmv --lr 0.001 | grep -v '^#\|^quantizer,'
  train -q sign -q s3gdmv --lr 0.001 --partition noniid | grep -v '^#\|^quantizer,'
  train -q topk:kappa=0.01 -q powersgd:rank=2 --ef none,classic | grep -v '^#\|^quantizer,'
} > "$out.tmp"
mv "$out.tmp" "$out"
