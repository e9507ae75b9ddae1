#!/usr/bin/env bash
# The cost of random-shift augmentation: `xpnet train --hidden 32 --epochs 3` on Fashion-MNIST with
# --shift 1 and --shift 0, interleaved, RUNS times each; prints train_seconds from metrics.json.
# Usage: benchmarks/shift_overhead.sh DATA_DIR [RUNS] [extra xpnet train options...]
set -euo pipefail
data=${1:?usage: $0 DATA_DIR [RUNS] [options]}; runs=${2:-3}; shift 2 || shift $#
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq 1 "$runs"); do
  for s in 1 0; do
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE xpnet train --data "$data" --hidden 32 --epochs 3 \
      --shift "$s" --no-plots --out "$out/s$s-$i" "$@" >/dev/null
    python -c "import json,sys; m=json.load(open(sys.argv[1])); print(f'shift {sys.argv[2]} run {sys.argv[3]}: train_seconds {m[\"train_seconds\"]:.3f}  test accuracy {m[\"test\"][\"accuracy\"]:.4f}')" \
      "$out/s$s-$i/metrics.json" "$s" "$i"
  done
done
